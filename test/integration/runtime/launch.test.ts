import { requireHost } from '../../helpers/host.js';
import { runProbe } from './harness.js';

const run = requireHost({ root: true, packages: ['tini', 'gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;

d('runtime launch', () => {
  it('runs the probe as PID 1 in its own pid namespace', async () => {
    const { exit, stdout } = await runProbe({ argv: ['/bin/probe', 'pid'] });
    expect(stdout).toBe('pid=1 ppid=0\n');
    expect(exit.exitCode).toBe(0);
    expect(exit.signal).toBe(0);
    expect(exit.oomKilled).toBe(false);
  });
});
