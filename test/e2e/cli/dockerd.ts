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
  readdirSync,
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
  /** dockerd-style bridges (`br-<id12>`) present before this daemon started: not its own. */
  readonly bridgesBefore: readonly string[];
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
  const bridgesBefore = dockerBridges();
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
      const why = readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000);
      await stopDockerd({
        host: `unix://${socket}`,
        socket,
        dir,
        pid,
        api,
        bridgesBefore,
        docker: () => '',
      });
      throw new Error(`dockerd did not start: ${why}`);
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
  const d: TestDockerd = { host, socket, dir, pid, api, bridgesBefore, docker };
  if (options.busybox === false) return d;
  try {
    // busybox rootfs: /bin/busybox + applet links + passwd/group
    const root = join(dir, 'rootfs');
    for (const sub of ['bin', 'etc', 'tmp', 'root'])
      mkdirSync(join(root, sub), { recursive: true });
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
  } catch (e) {
    await stopDockerd(d);
    throw e;
  }
  return d;
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

/** Names of the links shaped like dockerd's network bridges (`br-` and 12 hex digits). */
function dockerBridges(): string[] {
  return readdirSync('/sys/class/net').filter((n) => /^br-[0-9a-f]{12}$/.test(n));
}

/**
 * Stops the daemon: first removes every container and user-defined network through its API, then
 * SIGTERM by pid (SIGKILL after 20 s) and its containerd (by the pid file it wrote); deletes its
 * networks' `br-<id12>` bridges still present — those its API listed, or, when it no longer
 * answered, those that appeared since it started (dockerd keeps a network's bridge across its own
 * shutdown, so one it could not remove would outlive it) — unmounts anything left under its
 * directory and removes the directory.
 */
export async function stopDockerd(d: TestDockerd): Promise<void> {
  // its own bridges: from its API while it answers, else every one that appeared since its start
  let own: string[] | undefined;
  if (alive(d.pid)) {
    for (const c of await d.api.listContainers({ all: true }).catch(() => []))
      await d.api
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    const networks = await d.api.listNetworks().catch(() => undefined);
    own = [];
    for (const n of networks ?? []) {
      if (['bridge', 'host', 'none'].includes(n.Name)) continue;
      own.push(`br-${n.Id.slice(0, 12)}`);
      await d.api
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    }
    if (networks === undefined) own = undefined;
  }
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
  for (const b of dockerBridges())
    if (own ? own.includes(b) : !d.bridgesBefore.includes(b))
      execFileSync('ip', ['link', 'del', b]);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  rmSync(d.dir, { recursive: true, force: true });
}
