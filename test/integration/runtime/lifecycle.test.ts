import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLaunchSpec, shimPath } from '../../../native/index.js';
import { createCgroupManager } from '../../../engine/cgroups/index.js';
import {
  createLaunchSpec,
  exec,
  kill,
  readExitRecord,
  stop,
  waitForExit,
} from '../../../engine/runtime/index.js';
import { requireHost } from '../../helpers/host.js';
import { makeRootfs, releaseProbe } from '../../helpers/rootfs.js';
import { CONTROLLERS, runProbe, startProbe } from './harness.js';

const run = requireHost({ root: true, packages: ['tini', 'gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;
afterAll(releaseProbe);
// containers on a loaded host can take seconds; nothing here asserts on time
jest.setTimeout(60_000);

/** Polls `check` until it returns true (bounded); not a timing assertion. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

d('runtime lifecycle', () => {
  it('records an OOM kill when a memory hog exceeds the memory limit', async () => {
    const mib = 1024 * 1024;
    const { exit } = await runProbe(
      { argv: ['/bin/probe', 'memhog', '512'] },
      { memory: 32 * mib, memorySwap: 32 * mib },
    );
    expect(exit).toMatchObject({ exitCode: 137, signal: 9, oomKilled: true });
  });

  it('stops fork at the pids limit', async () => {
    const { stdout, exit } = await runProbe(
      { argv: ['/bin/probe', 'forkbomb', '60'] },
      { pidsLimit: 20 },
    );
    const m = /forked=(\d+) failed=(\d+)/.exec(stdout);
    expect(Number(m?.[1])).toBeLessThan(20);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(exit.oomKilled).toBe(false);
  });

  it('throttles a busy loop under a CPU quota', async () => {
    const t = await startProbe({ argv: ['/bin/probe', 'spin', '200'] }, { nanoCpus: 100_000_000 });
    try {
      await t.wait();
      const stat = readFileSync(`/sys/fs/cgroup/cpu/${t.cgroup.name}/cpu.stat`, 'utf8');
      expect(Number(/nr_throttled (\d+)/.exec(stat)?.[1])).toBeGreaterThan(0);
    } finally {
      await t.destroy();
    }
  });

  it('gives 143 for SIGTERM through init and 137 for SIGKILL', async () => {
    const withInit = await startProbe({ argv: ['/bin/probe', 'sleep'], init: true });
    try {
      // tini ignores signals until it has set up its handlers and forked the child
      const children = `/proc/${withInit.c.initPid}/task/${withInit.c.initPid}/children`;
      expect(await eventually(() => readFileSync(children, 'utf8').trim() !== '')).toBe(true);
      const rec = await stop(withInit.c, { signal: 'SIGTERM', timeoutMs: 10_000 });
      expect(rec).toMatchObject({ exitCode: 143, signal: 0 });
    } finally {
      await withInit.destroy();
    }
    const bare = await startProbe({ argv: ['/bin/probe', 'sleep'] });
    try {
      kill(bare.c, 'SIGKILL');
      expect(await bare.wait()).toMatchObject({ exitCode: 137, signal: 9, oomKilled: false });
      expect(() => kill(bare.c, 'SIGTERM')).toThrow(/is not running/);
    } finally {
      await bare.destroy();
    }
  });

  it('forwards signals the shim receives to the init', async () => {
    const t = await startProbe({ argv: ['/bin/probe', 'sleep-term'] });
    try {
      // the probe's handler is installed once it has exec'd and runs; wait for its handler
      const status = `/proc/${t.c.initPid}/status`;
      expect(await eventually(() => /^SigCgt:\s*0*4000$/m.test(readFileSync(status, 'utf8')))).toBe(
        true,
      );
      process.kill(t.c.shimPid, 'SIGTERM');
      expect(await t.wait()).toMatchObject({ exitCode: 143, signal: 0 });
    } finally {
      await t.destroy();
    }
  });

  it('escalates to SIGKILL after the grace period when the stop signal is ignored', async () => {
    // PID 1 without a handler ignores SIGTERM from outside its namespace (pid_namespaces(7))
    const t = await startProbe({ argv: ['/bin/probe', 'sleep'] });
    try {
      expect(await stop(t.c, { timeoutMs: 300 })).toMatchObject({ exitCode: 137 });
    } finally {
      await t.destroy();
    }
  });

  it('reaps orphaned zombies with init: true (and not without)', async () => {
    type T = Awaited<ReturnType<typeof startProbe>>;
    const orphanPid = (t: T): number | undefined => {
      const line = t.log().find((e) => e.log.startsWith('orphan='));
      return line ? Number(line.log.slice('orphan='.length)) : undefined;
    };
    // the orphan's /proc entry: 'Z' while unreaped, gone once PID 1 reaped it
    const orphanState = async (t: T, pid: number): Promise<string> => {
      const r = await exec(t.c, { argv: ['/bin/probe', 'cat', `/proc/${pid}/stat`] });
      if (r.exitCode !== 0) return 'gone';
      return r.stdout.slice(r.stdout.lastIndexOf(')') + 2, r.stdout.lastIndexOf(')') + 3);
    };
    const withInit = await startProbe({ argv: ['/bin/probe', 'zombie'], init: true });
    const bare = await startProbe({ argv: ['/bin/probe', 'zombie'] });
    try {
      expect(
        await eventually(() => orphanPid(withInit) !== undefined && orphanPid(bare) !== undefined),
      ).toBe(true);
      const pid1 = await exec(withInit.c, { argv: ['/bin/probe', 'cat', '/proc/1/cmdline'] });
      expect(pid1.stdout.split('\0')[0]).toBe('/sbin/docker-init');
      expect(
        await eventually(async () => (await orphanState(bare, orphanPid(bare) ?? 0)) === 'Z'),
      ).toBe(true);
      expect(
        await eventually(
          async () => (await orphanState(withInit, orphanPid(withInit) ?? 0)) === 'gone',
        ),
      ).toBe(true);
    } finally {
      await withInit.destroy();
      await bare.destroy();
    }
  });

  it('writes stdout and stderr as Docker json-file lines and rotates by max-size', async () => {
    const { entries, raw } = await runProbe({
      argv: ['/bin/probe', 'echo', 'hello', '<&>', '"q"'],
    });
    expect(entries.map((e) => [e.stream, e.log]).sort()).toEqual([
      ['stderr', 'hello <&> "q"\n'],
      ['stdout', 'hello <&> "q"\n'],
    ]);
    for (const e of entries) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(raw).toContain(
      '{"log":"hello \\u003c\\u0026\\u003e \\"q\\"\\n","stream":"stdout","time":"',
    );

    const rotated = await startProbe({
      argv: ['/bin/probe', 'lines', '200'],
      log: { maxSize: 4096, maxFile: 3 },
    });
    try {
      await rotated.wait();
      const size = (p: string): number => readFileSync(p).length;
      expect(size(rotated.c.logPath)).toBeLessThanOrEqual(4096);
      expect(size(`${rotated.c.logPath}.1`)).toBeGreaterThan(3000);
      expect(size(`${rotated.c.logPath}.2`)).toBeGreaterThan(3000);
      expect(() => readFileSync(`${rotated.c.logPath}.3`)).toThrow();
      const last = rotated.log().at(-1);
      expect(last?.log).toBe('line 000199 of the json-file rotation test\n');
    } finally {
      await rotated.destroy();
    }
  });

  it('keeps the container supervised after the process that started it exits', async () => {
    const fs = makeRootfs();
    const manager = createCgroupManager();
    const name = `tsc-test-${fs.id.slice(0, 12)}`;
    const cgroup = await manager.create(name, {});
    try {
      const spec = createLaunchSpec({
        id: fs.id,
        rootfs: fs.rootfs,
        stateDir: fs.stateDir,
        argv: ['/bin/probe', 'sleep'],
        cgroup: {
          version: manager.version,
          root: '/sys/fs/cgroup',
          name,
          controllers: CONTROLLERS,
        },
      });
      const specFile = join(fs.dir, 'spec.bin');
      writeFileSync(
        specFile,
        encodeLaunchSpec({ ...spec, cgroupProcs: [`/sys/fs/cgroup/pids/${name}/cgroup.procs`] }),
      );
      // a separate starter: runs the handshake in plain JS, prints the pids, and exits
      const starter = `
        const { spawn } = require('node:child_process');
        const shim = spawn(process.argv[1], ['run', '--spec', process.argv[2]], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
        const ch = shim.stdio[3];
        let buf = Buffer.alloc(0);
        ch.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 32) {
            const type = buf.readUInt32LE(0), pid = buf.readInt32LE(4), shimPid = buf.readInt32LE(8);
            buf = buf.subarray(32);
            if (type === 1) { process.stdout.write(pid + ' ' + shimPid + '\\n'); ch.write('G'); }
            else if (type === 2) { shim.unref(); process.exit(0); }
            else process.exit(1);
          }
        });`;
      const child = spawn(process.execPath, ['-e', starter, shimPath(), specFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(0);
      const [initPid = 0, shimPid = 0] = out.trim().split(' ').map(Number);
      const c = { id: fs.id, initPid, shimPid, exitPath: spec.exitPath };
      // the starter is gone; the shim lives on, in its own session, still the init's parent
      expect(readExitRecord(spec.exitPath)).toBeUndefined();
      const stat = readFileSync(`/proc/${shimPid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      expect(Number(fields[3])).toBe(shimPid); // session id = its own pid (setsid)
      expect(readFileSync(`/proc/${shimPid}/comm`, 'utf8')).toBe('tsc:[shim]\n');
      expect(readFileSync(`/proc/${initPid}/comm`, 'utf8')).toBe('probe\n');
      kill(c, 'SIGKILL');
      const rec = await waitForExit(c, 10_000);
      expect(rec).toMatchObject({ exitCode: 137, signal: 9, pid: initPid, oomKilled: false });
    } finally {
      await cgroup.remove();
      fs.cleanup();
    }
  });
});
