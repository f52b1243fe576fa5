/**
 * `tscompose config [SERVICE...]` through main(), as docker compose v2 does it: the named
 * services and their dependencies, unused networks/volumes dropped, `no such service` (exit 1),
 * profile-disabled services enabled by name, and which listing flags use or ignore the names.
 * Runs in a fresh temp cwd per test; writes only inside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { matchesPattern } from '../../../cli/commands/config.js';
import { main } from '../../../cli/main.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const COMPOSE = `name: demo
services:
  web:
    image: nginx
    depends_on: [api]
    networks: [front, back]
  api:
    image: api:1
    depends_on:
      db:
        condition: service_started
      cache:
        condition: service_started
        required: false
    networks: [back]
    secrets: [token]
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
  worker:
    image: busybox
    volumes: [logs:/logs, ./src:/src]
    configs: [conf]
  dbg:
    image: busybox
    profiles: [debug]
    depends_on: [db]
networks:
  front: {}
  back: {}
  unused: {}
volumes:
  data: {}
  logs: {}
secrets:
  token:
    file: ./token
configs:
  conf:
    file: ./conf
`;

let dir = '';
let oldCwd = '';
const savedEnv = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-config-services-'));
  oldCwd = process.cwd();
  process.chdir(dir);
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('COMPOSE_')) Reflect.deleteProperty(process.env, k);
  }
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
});

afterEach(() => {
  process.chdir(oldCwd);
  rmSync(dir, { recursive: true, force: true });
  process.env = { ...savedEnv };
});

async function run(argv: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr: stderr.split(dir).join('<dir>') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function json(argv: readonly string[]): Promise<Record<string, Record<string, unknown>>> {
  const r = await run(['config', '--format', 'json', ...argv]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
}

const keys = (o: Record<string, unknown> | undefined): string[] => Object.keys(o ?? {}).sort();

describe('config SERVICE...', () => {
  it('keeps the named service and its dependencies, transitively', async () => {
    const p = await json(['web']);
    expect(keys(p.services)).toEqual(['api', 'db', 'web']);
  });

  it('drops networks, volumes, secrets and configs no kept service uses', async () => {
    const p = await json(['api']);
    expect(keys(p.services)).toEqual(['api', 'db']);
    expect(keys(p.networks)).toEqual(['back']);
    expect(keys(p.volumes)).toEqual(['data']);
    expect(keys(p.secrets)).toEqual(['token']);
    expect(keys(p.configs)).toEqual([]);
  });

  it('drops a missing optional dependency from depends_on', async () => {
    const p = await json(['api']);
    const api = p.services?.api as { depends_on: Record<string, unknown> };
    expect(Object.keys(api.depends_on)).toEqual(['db']);
  });

  it('keeps the default network for a service that uses it, and bind mounts add no volume', async () => {
    const p = await json(['worker']);
    expect(keys(p.services)).toEqual(['worker']);
    expect(keys(p.networks)).toEqual(['default']);
    expect(keys(p.volumes)).toEqual(['logs']);
    expect(keys(p.configs)).toEqual(['conf']);
    expect(keys(p.secrets)).toEqual([]);
  });

  it('takes several names and shell patterns', async () => {
    expect(keys((await json(['db', 'worker'])).services)).toEqual(['db', 'worker']);
    expect(keys((await json(['w*'])).services)).toEqual(['api', 'db', 'web', 'worker']);
    expect(keys((await json(['d?'])).services)).toEqual(['db']);
  });

  it('enables a service outside the active profiles when it is named', async () => {
    const p = await json(['dbg']);
    expect(keys(p.services)).toEqual(['db', 'dbg']);
  });

  it('renders yaml by default, with the project name and only the kept services', async () => {
    const r = await run(['config', 'db']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^name: demo\nservices:\n {2}db:\n/);
    expect(r.stdout).not.toContain('web:');
    expect(r.stdout).not.toContain('unused');
  });

  it('says no such service (exit 1) for an unknown name, also with -q', async () => {
    for (const argv of [
      ['config', 'nope'],
      ['config', '-q', 'db', 'nope'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('no such service: nope');
    }
    expect(await run(['config', 'extra'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error[TSC_COMPOSE_REFERENCE]: no such service: extra\n',
    });
  });

  it('--images lists the kept services only; --services ignores the names as docker compose does', async () => {
    const images = await run(['config', '--images', 'api']);
    expect(images.code).toBe(0);
    expect(images.stdout).toBe('postgres\napi:1\n');
    const services = await run(['config', '--services', 'api']);
    expect(services.code).toBe(0);
    expect(services.stdout.trim().split('\n').sort()).toEqual(['api', 'db', 'web', 'worker']);
  });

  it('--profiles checks the names, then lists every profile', async () => {
    expect(await run(['config', '--profiles', 'db'])).toEqual({
      code: 0,
      stdout: 'debug\n',
      stderr: '',
    });
    const r = await run(['config', '--profiles', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no such service: nope');
  });

  it('--no-interpolate warns and renders the whole model', async () => {
    const r = await run(['config', '--format', 'json', '--no-interpolate', 'db']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('service filtering is not applied when --no-interpolate is set');
    const p = JSON.parse(r.stdout) as { services: Record<string, unknown> };
    expect(keys(p.services)).toEqual(['api', 'db', 'web', 'worker']);
  });
});

describe('matchesPattern', () => {
  it('matches whole names like filepath.Match', () => {
    expect(matchesPattern('web', 'web')).toBe(true);
    expect(matchesPattern('we', 'web')).toBe(false);
    expect(matchesPattern('w*', 'web')).toBe(true);
    expect(matchesPattern('*b', 'web')).toBe(true);
    expect(matchesPattern('w?b', 'web')).toBe(true);
    expect(matchesPattern('[a-w]eb', 'web')).toBe(true);
    expect(matchesPattern('[^w]eb', 'web')).toBe(false);
    expect(matchesPattern('w.b', 'web')).toBe(false);
    expect(matchesPattern('[web', 'web')).toBe(false);
  });
});
