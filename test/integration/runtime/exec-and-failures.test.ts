import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createCgroupManager } from '../../../engine/cgroups/index.js';
import {
  createLaunchSpec,
  exec,
  launch,
  readExitRecord,
  SetupError,
  startExec,
} from '../../../engine/runtime/index.js';
import { TscError } from '../../../base/errors.js';
import { requireHost } from '../../helpers/host.js';
import { makeRootfs, releaseProbe } from '../../helpers/rootfs.js';
import { CONTROLLERS, startProbe, type ProbeConfig } from './harness.js';

const run = requireHost({ root: true, packages: ['tini', 'gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;
afterAll(releaseProbe);
// containers on a loaded host can take seconds; nothing here asserts on time
jest.setTimeout(60_000);

/** Processes whose command line mentions `needle` (the rootfs path is unique per test). */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) out.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Launches a config expected to fail; returns the error and proves nothing was left behind. */
async function failLaunch(
  config: ProbeConfig,
): Promise<{ error: unknown; exitCode?: number | undefined }> {
  const fs = makeRootfs();
  const manager = createCgroupManager();
  const name = `tsc-test-${fs.id.slice(0, 12)}`;
  const cgroup = await manager.create(name, {});
  let error: unknown;
  let spec;
  try {
    spec = createLaunchSpec({
      cgroup: {
        version: manager.version,
        root: '/sys/fs/cgroup',
        name,
        controllers: CONTROLLERS,
        procs: cgroup.joinFiles(),
      },
      ...config,
      id: fs.id,
      rootfs: fs.rootfs,
      stateDir: fs.stateDir,
    });
    await launch(spec);
  } catch (e) {
    error = e;
  }
  try {
    // nothing left: no process in the cgroup, no shim for this container
    expect(await cgroup.pids()).toEqual([]);
    expect(processesMentioning(fs.id)).toEqual([]);
    return { error, exitCode: spec ? readExitRecord(spec.exitPath)?.exitCode : undefined };
  } finally {
    await cgroup.remove();
    fs.cleanup();
  }
}

d('runtime exec', () => {
  it('runs a process inside the container namespaces, cgroups, user and cwd', async () => {
    const t = await startProbe({
      argv: ['/bin/probe', 'sleep'],
      hostname: 'box',
      workingDir: '/srv',
      user: 'app',
    });
    try {
      const host = await exec(t.c, { argv: ['/bin/probe', 'hostname'] });
      expect(host).toEqual({ exitCode: 0, stdout: 'box\n', stderr: '' });
      const pid = await exec(t.c, { argv: ['probe', 'pid'] });
      expect(pid.stdout).toMatch(/^pid=(\d+) ppid=0\n$/);
      expect(pid.stdout).not.toBe('pid=1 ppid=0\n');
      expect((await exec(t.c, { argv: ['/bin/probe', 'id'] })).stdout).toBe(
        'uid=1000 gid=1000 groups=29,50,1000\n',
      );
      expect((await exec(t.c, { argv: ['/bin/probe', 'id'], user: 'root' })).stdout).toMatch(
        /^uid=0 gid=0 /,
      );
      expect((await exec(t.c, { argv: ['/bin/probe', 'cwd'] })).stdout).toBe('/srv\n');
      const env = await exec(t.c, { argv: ['/bin/probe', 'env'], env: ['EXTRA=1'] });
      expect(env.stdout).toContain('EXTRA=1\n');
      expect(env.stdout).toContain('HOSTNAME=box\n');
      expect((await exec(t.c, { argv: ['/bin/probe', 'exit', '7'] })).exitCode).toBe(7);
      // the init joined its cgroups itself, in every hierarchy
      const initCg = readFileSync(`/proc/${t.c.initPid}/cgroup`, 'utf8');
      for (const ctrl of ['memory', 'pids', 'cpuset', 'freezer'])
        expect(initCg).toMatch(
          new RegExp(`:(?:[a-z_,]*,)?${ctrl}(?:,[a-z_]*)?:/${t.cgroup.name}\n`),
        );
      // the exec joined the container's cgroups while it ran
      const cg = await exec(t.c, { argv: ['/bin/probe', 'cat', '/proc/self/cgroup'] });
      expect(cg.stdout).toContain(`:memory:/${t.cgroup.name}\n`);
    } finally {
      await t.destroy();
    }
  });

  it('runs on a pty when asked', async () => {
    const t = await startProbe({ argv: ['/bin/probe', 'sleep'] });
    try {
      const p = startExec(t.c, { argv: ['/bin/probe', 'tty'], tty: true });
      let out = '';
      p.child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
      p.child.stdin?.end();
      await p.started;
      expect(await p.exitCode).toBe(0);
      expect(out.replace(/\r/g, '')).toBe('isatty=1\n');
    } finally {
      await t.destroy();
    }
  });

  it('fails with 127 for a missing binary and 126 for a directory', async () => {
    const t = await startProbe({ argv: ['/bin/probe', 'sleep'] });
    try {
      const missing = exec(t.c, { argv: ['nope'] });
      await expect(missing).rejects.toThrow('exec: "nope": executable file not found in $PATH');
      await expect(missing).rejects.toMatchObject({ exitCode: 127, code: 'TSC_CHILD_SETUP' });
      await expect(exec(t.c, { argv: ['/bin'] })).rejects.toMatchObject({
        exitCode: 126,
        errno: 'EACCES',
      });
    } finally {
      await t.destroy();
    }
  });
});

d('runtime setup failures', () => {
  it('reports a missing bind source as a mount error with 125 and leaves nothing behind', async () => {
    const { error, exitCode } = await failLaunch({
      argv: ['/bin/probe', 'pid'],
      binds: [{ source: '/srv/tsc-test-does-not-exist', target: '/data' }],
    });
    expect(error).toBeInstanceOf(SetupError);
    expect((error as SetupError).message).toBe(
      'mount /srv/tsc-test-does-not-exist on /data: ENOENT',
    );
    expect(error).toMatchObject({
      exitCode: 125,
      stage: 'mount',
      syscall: 'mount',
      errno: 'ENOENT',
    });
    expect(exitCode).toBe(125);
  });

  it('rejects an unknown user before starting anything', async () => {
    const { error } = await failLaunch({ argv: ['/bin/probe', 'pid'], user: 'nosuchuser' });
    expect(error).toBeInstanceOf(TscError);
    expect((error as TscError).message).toBe(
      'unable to find user nosuchuser: no matching entries in passwd file',
    );
    expect((error as TscError).code).toBe('TSC_CHILD_SETUP');
  });

  it('fails the start when the init cannot join its cgroup, before anything runs', async () => {
    const manager = createCgroupManager();
    const missing = '/sys/fs/cgroup/pids/tsc-test-no-such-cgroup/cgroup.procs';
    const { error, exitCode } = await failLaunch({
      argv: ['/bin/probe', 'pid'],
      cgroup: {
        version: manager.version,
        root: '/sys/fs/cgroup',
        name: 'tsc-test-no-such-cgroup',
        controllers: [],
        procs: [missing],
      },
    });
    expect(error).toBeInstanceOf(SetupError);
    expect((error as SetupError).message).toBe(`join cgroup ${missing}: ENOENT`);
    expect(error).toMatchObject({ exitCode: 125, errno: 'ENOENT' });
    expect(exitCode).toBe(125);
  });

  it('reports a missing binary with 127 and a non-executable one with 126', async () => {
    const missing = await failLaunch({ argv: ['/bin/nope'] });
    expect((missing.error as SetupError).message).toBe('exec /bin/nope: ENOENT');
    expect(missing).toMatchObject({ exitCode: 127, error: { exitCode: 127 } });
    const searched = await failLaunch({ argv: ['nope'] });
    expect((searched.error as SetupError).message).toBe(
      'exec: "nope": executable file not found in $PATH',
    );
    expect(searched.exitCode).toBe(127);
    const notExec = await failLaunch({ argv: ['/etc/passwd'] });
    expect(notExec).toMatchObject({ exitCode: 126, error: { exitCode: 126, errno: 'EACCES' } });
  });

  it('kills the init and leaves nothing behind when the outside work fails', async () => {
    const fs = makeRootfs();
    try {
      const spec = createLaunchSpec({
        id: fs.id,
        rootfs: fs.rootfs,
        stateDir: fs.stateDir,
        argv: ['/bin/probe', 'sleep'],
      });
      let seenPid = 0;
      await expect(
        launch(spec, {
          outside: (pid) => {
            seenPid = pid;
            return Promise.reject(new TscError('TSC_NETWORK', 'attach network: test failure'));
          },
        }),
      ).rejects.toThrow('attach network: test failure');
      expect(seenPid).toBeGreaterThan(0);
      expect(existsSync(`/proc/${seenPid}`)).toBe(false);
      expect(processesMentioning(fs.id)).toEqual([]);
      expect(readExitRecord(spec.exitPath)).toBeUndefined();
    } finally {
      fs.cleanup();
    }
  });
});
