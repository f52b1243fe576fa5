/**
 * A private dockerd for the CLI e2e tests: own data root, exec root and socket under a temp dir,
 * no iptables/forwarding/masquerade, no default bridge; a busybox:1.36 image imported from
 * Debian's busybox-static. Stopped by pid and its directory removed afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import Dockerode from 'dockerode';

/** A running private dockerd. */
export interface TestDockerd {
  /** `unix://<socket>` for --host / DOCKER_HOST. */
  readonly host: string;
  readonly socket: string;
  readonly dir: string;
  readonly pid: number;
  readonly api: Dockerode;
  /** Runs the docker CLI against this daemon; returns stdout. */
  docker(args: readonly string[], input?: Buffer): string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options of {@link startDockerd}. */
export interface DockerdOptions {
  /** Import busybox:1.36 from the host's busybox-static (default true). */
  readonly busybox?: boolean;
}

/**
 * Starts dockerd (and, unless `busybox: false`, imports busybox:1.36). Waits (polling /_ping)
 * until it answers; throws with the end of its log when it does not start.
 */
export async function startDockerd(options: DockerdOptions = {}): Promise<TestDockerd> {
  const dir = mkdtempSync('/tmp/tsc-test-dockerd-');
  const socket = join(dir, 'docker.sock');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '-H',
      `unix://${socket}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=true',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  const pid = child.pid ?? 0;
  const api = new Dockerode({ socketPath: socket });
  for (let i = 0; ; i++) {
    if (
      existsSync(socket) &&
      (await api.ping().then(
        () => true,
        () => false,
      ))
    )
      break;
    if (child.exitCode !== null || i > 600) {
      throw new Error(
        `dockerd did not start: ${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`,
      );
    }
    await sleep(100);
  }
  const host = `unix://${socket}`;
  const docker = (args: readonly string[], input?: Buffer): string =>
    execFileSync('docker', [...args], {
      env: { ...process.env, DOCKER_HOST: host },
      encoding: 'utf8',
      ...(input ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  if (options.busybox === false) return { host, socket, dir, pid, api, docker };
  // busybox rootfs: /bin/busybox + applet links + passwd/group
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  execFileSync('chroot', [root, '/bin/busybox', '--install', '-s', '/bin']);
  writeFileSync(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tarball = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
  docker(['import', '-c', 'CMD ["sh"]', '-', 'busybox:1.36'], tarball);
  return { host, socket, dir, pid, api, docker };
}

/** True while `pid` is alive (zombies count as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Stops the daemon by pid (SIGTERM, SIGKILL after 20 s), then its containerd (by the pid file it
 * wrote), unmounts anything left under its directory and removes the directory.
 */
export async function stopDockerd(d: TestDockerd): Promise<void> {
  const containerdPidFile = join(d.dir, 'exec', 'containerd', 'containerd.pid');
  const containerdPid = existsSync(containerdPidFile)
    ? Number(readFileSync(containerdPidFile, 'utf8'))
    : 0;
  if (alive(d.pid)) process.kill(d.pid, 'SIGTERM');
  for (let i = 0; alive(d.pid) && i < 200; i++) await sleep(100);
  if (alive(d.pid)) process.kill(d.pid, 'SIGKILL');
  if (containerdPid > 0 && alive(containerdPid)) {
    process.kill(containerdPid, 'SIGTERM');
    for (let i = 0; alive(containerdPid) && i < 100; i++) await sleep(100);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  rmSync(d.dir, { recursive: true, force: true });
}
