// checkExternalResources (compose/orchestrator/external.ts): external networks and volumes the
// selected services use must exist before up creates anything, with docker compose's messages.
import {
  checkExternalResources,
  externalResources,
  type ExternalResourceClient,
} from '../../../../compose/orchestrator/external.js';

import { project } from './fixtures.js';

const p = project(
  {
    web: {
      image: 'busybox',
      networks: { front: null, default: null },
      volumes: [
        { type: 'volume', source: 'shared', target: '/s' },
        { type: 'volume', source: 'own', target: '/o' },
        { type: 'bind', source: '/tmp', target: '/t' },
      ],
    },
    solo: { image: 'busybox', network_mode: 'none', volumes: [] },
    other: { image: 'busybox', networks: { back: null } },
  } as never,
  {
    networks: {
      front: { external: true, name: 'corp-front' },
      back: { external: true, name: 'corp-back' },
      default: {},
    },
    volumes: { shared: { external: true, name: 'corp-data' }, own: {} },
  },
);

/** A daemon that has exactly `have` (names); records what was asked. */
function daemon(have: string[]): ExternalResourceClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    networkExists: (n) => (asked.push(`network ${n}`), Promise.resolve(have.includes(n))),
    volumeExists: (v) => (asked.push(`volume ${v}`), Promise.resolve(have.includes(v))),
  };
}

test('lists only the external resources the selected services use', () => {
  expect(externalResources(p, ['web'])).toEqual({
    networks: ['corp-front'],
    volumes: ['corp-data'],
  });
  expect(externalResources(p, ['web', 'other', 'solo'])).toEqual({
    networks: ['corp-back', 'corp-front'],
    volumes: ['corp-data'],
  });
  expect(externalResources(p, ['solo'])).toEqual({ networks: [], volumes: [] });
});

test('passes when all exist; names a missing network or volume as docker compose does', async () => {
  await expect(
    checkExternalResources(daemon(['corp-front', 'corp-data']), p, ['web']),
  ).resolves.toBeUndefined();
  await expect(checkExternalResources(daemon(['corp-data']), p, ['web'])).rejects.toMatchObject({
    code: 'TSC_ENGINE_NOT_FOUND',
    message: 'network corp-front declared as external, but could not be found',
  });
  await expect(checkExternalResources(daemon(['corp-front']), p, ['web'])).rejects.toMatchObject({
    code: 'TSC_ENGINE_NOT_FOUND',
    message: 'external volume "corp-data" not found',
  });
  const d = daemon([]);
  await expect(checkExternalResources(d, p, ['solo'])).resolves.toBeUndefined();
  expect(d.asked).toEqual([]);
});
