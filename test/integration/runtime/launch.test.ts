import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireHost } from '../../helpers/host.js';
import { releaseProbe } from '../../helpers/rootfs.js';
import { runProbe } from './harness.js';

const run = requireHost({ root: true, packages: ['tini', 'gcc', 'libc6-dev'] });
const d = run ? describe : describe.skip;
afterAll(releaseProbe);
// containers on a loaded host can take seconds; nothing here asserts on time
jest.setTimeout(60_000);

/** One mountinfo line per mount point: [mount point, per-mount options, fstype, super options]. */
function mountTable(
  text: string,
): Map<string, { opts: string; fstype: string; superOpts: string }> {
  const out = new Map<string, { opts: string; fstype: string; superOpts: string }>();
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    out.set(f[4] ?? '', { opts: f[5] ?? '', fstype: r[0] ?? '', superOpts: r[2] ?? '' });
  }
  return out;
}

/** Capability mask from numbers. */
const mask = (caps: number[]): string =>
  caps
    .reduce((m, c) => m | (1n << BigInt(c)), 0n)
    .toString(16)
    .padStart(16, '0');

d('runtime launch', () => {
  it('runs the probe as PID 1 in its own pid namespace', async () => {
    const { exit, stdout } = await runProbe({ argv: ['/bin/probe', 'pid'] });
    expect(stdout).toBe('pid=1 ppid=0\n');
    expect(exit).toMatchObject({ exitCode: 0, signal: 0, oomKilled: false });
    expect(exit.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  });

  it('sets the hostname and binds the hostname file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-test-files-'));
    try {
      writeFileSync(join(dir, 'hostname'), 'web-1\n');
      const { stdout } = await runProbe({ argv: ['/bin/probe', 'hostname'], hostname: 'web-1' });
      expect(stdout).toBe('web-1\n');
      const file = await runProbe({
        argv: ['/bin/probe', 'cat', '/etc/hostname'],
        networkFiles: { hostname: join(dir, 'hostname') },
      });
      expect(file.stdout).toBe('web-1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts Docker default filesystems and masks and protects the default paths', async () => {
    const { stdout } = await runProbe({ argv: ['/bin/probe', 'mounts'], shmSize: 8 * 1024 * 1024 });
    const m = mountTable(stdout);
    expect(m.get('/proc')?.fstype).toBe('proc');
    expect(m.get('/dev')).toMatchObject({ fstype: 'tmpfs' });
    expect(m.get('/dev')?.superOpts).toContain('size=65536k');
    expect(m.get('/dev/pts')).toMatchObject({ fstype: 'devpts' });
    expect(m.get('/dev/pts')?.superOpts).toContain('ptmxmode=666');
    expect(m.get('/dev/shm')?.superOpts).toContain('size=8192k');
    expect(m.get('/dev/mqueue')?.fstype).toBe('mqueue');
    expect(m.get('/sys')?.opts.split(',')).toContain('ro');
    expect(m.get('/sys/fs/cgroup/memory')?.opts.split(',')).toContain('ro');
    expect(m.get('/proc/sys')?.opts.split(',')).toContain('ro');
    // masked: files get /dev/null bound over them, directories a read-only empty tmpfs
    const present = (p: string): boolean => existsSync(p);
    const maskedFiles = ['/proc/keys', '/proc/timer_list', '/proc/kcore'].filter(present);
    const maskedDirs = ['/proc/acpi', '/sys/firmware', '/proc/scsi'].filter(present);
    expect(maskedFiles.length + maskedDirs.length).toBeGreaterThan(0);
    for (const f of maskedFiles) expect(m.get(f)).toBeDefined();
    for (const dir of maskedDirs) {
      expect(m.get(dir)).toMatchObject({ fstype: 'tmpfs' });
      expect(m.get(dir)?.opts.split(',')).toContain('ro');
    }
    const first = maskedFiles[0];
    if (first) {
      const masked = await runProbe({ argv: ['/bin/probe', 'cat', first] });
      expect(masked.stdout).toBe('');
      expect(masked.exit.exitCode).toBe(0);
    }
  });

  it('applies bind (read-only) and tmpfs (size, mode) mounts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-test-bind-'));
    try {
      writeFileSync(join(dir, 'greeting'), 'hello from the host\n');
      const config = {
        binds: [{ source: dir, target: '/srv/data', readOnly: true }],
        tmpfs: [{ target: '/scratch', size: 4 * 1024 * 1024, mode: 0o750 }],
      };
      const cat = await runProbe({ ...config, argv: ['/bin/probe', 'cat', '/srv/data/greeting'] });
      expect(cat.stdout).toBe('hello from the host\n');
      const { stdout } = await runProbe({ ...config, argv: ['/bin/probe', 'mounts'] });
      const m = mountTable(stdout);
      expect(m.get('/srv/data')?.opts.split(',')).toContain('ro');
      expect(m.get('/scratch')).toMatchObject({ fstype: 'tmpfs' });
      expect(m.get('/scratch')?.superOpts).toContain('size=4096k');
      expect(m.get('/scratch')?.superOpts).toContain('mode=750');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('switches to the user from the image passwd with supplementary groups', async () => {
    const byName = await runProbe({ argv: ['/bin/probe', 'id'], user: 'app' });
    expect(byName.stdout).toBe('uid=1000 gid=1000 groups=29,50,1000\n');
    const pair = await runProbe({
      argv: ['/bin/probe', 'id'],
      user: '1000:staff',
      groupAdd: ['daemon'],
    });
    expect(pair.stdout).toBe('uid=1000 gid=50 groups=1,29,50\n');
    const numeric = await runProbe({ argv: ['/bin/probe', 'env'], user: '4242' });
    expect(numeric.stdout).toContain('HOME=/\n');
  });

  it("gives Docker's default capabilities, adjusted by cap_add/cap_drop and privileged", async () => {
    const defaults = await runProbe({ argv: ['/bin/probe', 'caps'] });
    expect(defaults.stdout).toContain(
      `CapEff:\t${mask([0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31])}`,
    );
    expect(defaults.stdout).toContain(
      `CapBnd:\t${mask([0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31])}`,
    );
    const adjusted = await runProbe({
      argv: ['/bin/probe', 'caps'],
      capAdd: ['SYS_ADMIN'],
      capDrop: ['net_raw', 'CAP_MKNOD'],
      noNewPrivileges: true,
    });
    expect(adjusted.stdout).toContain(
      `CapEff:\t${mask([0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 21, 29, 31])}`,
    );
    expect(adjusted.stdout).toContain('NoNewPrivs:\t1');
    const privileged = await runProbe({ argv: ['/bin/probe', 'caps'], privileged: true });
    const bnd = /CapBnd:\t([0-9a-f]+)/.exec(privileged.stdout)?.[1] ?? '';
    expect(BigInt(`0x${bnd}`) & (1n << 21n)).toBe(1n << 21n);
  });

  it('sets rlimits, environment and the working directory', async () => {
    const r = await runProbe({
      argv: ['/bin/probe', 'rlimits'],
      ulimits: [
        { name: 'nofile', soft: 1024, hard: 2048 },
        { name: 'nproc', soft: 77, hard: 77 },
      ],
    });
    expect(r.stdout).toBe('nofile=1024:2048\nnproc=77:77\n');
    const env = await runProbe({
      argv: ['/bin/probe', 'env'],
      env: ['FOO=bar', 'FOO=baz'],
      hostname: 'h1',
    });
    expect(env.stdout.split('\n').sort()).toEqual(
      [
        '',
        'FOO=baz',
        'HOME=/root',
        'HOSTNAME=h1',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ].sort(),
    );
    const cwd = await runProbe({ argv: ['probe', 'cwd'], workingDir: '/work/dir' });
    expect(cwd.stdout).toBe('/work/dir\n');
  });
});
