import { requireHost } from '../../helpers/host.js';
import { releaseProbe } from '../../helpers/rootfs.js';
import { readFileSync } from 'node:fs';
import { runProbe, startProbe } from './harness.js';

const run = requireHost({ root: true, packages: ['gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;
afterAll(releaseProbe);
// containers on a loaded host can take seconds; nothing here asserts on time
jest.setTimeout(60_000);

d('runtime user namespace', () => {
  it('maps container root to an unprivileged host uid and binds devices from the host', async () => {
    const maps = {
      uidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }],
      gidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }],
    };
    const { stdout, exit } = await runProbe({
      argv: ['/bin/probe', 'cat', '/proc/self/uid_map'],
      namespaces: { user: maps },
    });
    expect(exit.exitCode).toBe(0);
    expect(stdout.trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
    const id = await runProbe({ argv: ['/bin/probe', 'id'], namespaces: { user: maps } });
    expect(id.stdout).toBe('uid=0 gid=0 groups=0\n');
    const dev = await runProbe({
      argv: ['/bin/probe', 'cat', '/dev/null'],
      namespaces: { user: maps },
    });
    expect(dev.exit.exitCode).toBe(0);
    // seen from the host, the container's root is the unprivileged uid 200000
    const t = await startProbe({ argv: ['/bin/probe', 'sleep'], namespaces: { user: maps } });
    try {
      const status = readFileSync(`/proc/${t.c.initPid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('200000');
    } finally {
      await t.destroy();
    }
  });
});
