import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildRouter } from '../../../../engine/api/index';
import { EventBus } from '../../../../engine/events';
import { StateStore } from '../../../../engine/state/store';
import { VolumeService } from '../../../../engine/volumes/index';

describe('docs/api.md', () => {
  it('lists every route the router registers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-test-docs-'));
    try {
      const router = buildRouter({
        facts: {
          id: 'x',
          dataRoot: dir,
          registryMirrors: [],
          insecureRegistries: [],
          logDriver: 'json-file',
          debug: false,
          cgroupVersion: '1',
        },
        events: new EventBus(),
        volumes: new VolumeService(new StateStore(dir)),
        services: {},
      });
      const doc = readFileSync(join(__dirname, '../../../../docs/api.md'), 'utf8');
      const missing = router
        .list()
        .filter(
          (r) => !doc.includes(`\`${r}\``) && !doc.includes(`${r}\``) && !doc.includes(`\`${r},`),
        );
      expect(missing).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
