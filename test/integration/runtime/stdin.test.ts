/**
 * The runtime's stdin FIFO as root (LaunchSpec `stdinPath`, engine/runtime/stdin.ts): an init
 * launched with `openStdin` reads what the engine's StdinPipe writes and EOF when it closes; an
 * init without it reads /dev/null. Every rootfs, state dir and cgroup made here is removed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { StdinPipe } from '../../../engine/runtime/stdin.js';
import {
  createLaunchSpec,
  kill,
  launch,
  readExitRecord,
  stateFiles,
  waitForExit,
  type LaunchedContainer,
} from '../../../engine/runtime/index.js';
import { NativeError } from '../../../base/errors.js';
import { requireHost } from '../../helpers/host.js';
import { makeRootfs, releaseProbe } from '../../helpers/rootfs.js';
import { runProbe } from './harness.js';

const run = requireHost({ root: true, packages: ['tini', 'gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;
afterAll(releaseProbe);
jest.setTimeout(60_000);

d('container stdin', () => {
  it('gives an init without openStdin /dev/null (EOF at once)', async () => {
    const r = await runProbe({ argv: ['/bin/probe', 'cat', '/proc/self/fd/0'] });
    expect(r.exit.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('feeds an openStdin init from the FIFO and gives it EOF when the write end closes', async () => {
    const fs = makeRootfs();
    let c: LaunchedContainer | undefined;
    let pipe: StdinPipe | undefined;
    try {
      // the engine's order: create and open the FIFO, then launch with its path in the spec
      const { stdinPath } = stateFiles(fs.stateDir, fs.id);
      pipe = StdinPipe.open(stdinPath);
      // an existing FIFO is reused; a regular file in its place is refused
      StdinPipe.open(stdinPath).destroy();
      writeFileSync(join(fs.dir, 'plain'), '');
      expect(() => StdinPipe.open(join(fs.dir, 'plain'))).toThrow(NativeError);
      const spec = createLaunchSpec({
        id: fs.id,
        rootfs: fs.rootfs,
        stateDir: fs.stateDir,
        argv: ['/bin/probe', 'cat', '/proc/self/fd/0'],
        openStdin: true,
      });
      expect(spec.stdinPath).toBe(stdinPath);
      c = await launch(spec);
      // more than the pipe buffer (64 KiB): the socket queues and drains as the init reads
      await pipe.write(Buffer.from('hello\n'));
      await pipe.write(Buffer.alloc(200_000, 'x'));
      pipe.close();
      const exit = await waitForExit(c, 30_000);
      expect(exit?.exitCode).toBe(0);
      const out = readFileSync(c.logPath, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { log: string; stream: string })
        .filter((e) => e.stream === 'stdout')
        .map((e) => e.log)
        .join('');
      expect(out.slice(0, 6)).toBe('hello\n');
      expect(out.length).toBe(6 + 200_000);
    } finally {
      pipe?.destroy();
      if (c && !readExitRecord(c.exitPath)) {
        try {
          kill(c, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
        await waitForExit(c, 10_000);
      }
      fs.cleanup();
    }
  });
});
