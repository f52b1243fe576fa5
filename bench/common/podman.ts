/**
 * A private podman for the benchmarks: its containers.conf, storage, run, tmp and network dirs
 * in a temp dir (runc, cgroupfs, no events log), busybox:1.36 imported from the host's
 * busybox-static. Touches nothing of a system podman; the caller saves and restores iptables.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ensureDebPackages } from '../../test/helpers/host.js';

/** A private podman ready to run busybox:1.36. */
export interface PrivatePodman {
  /** Environment selecting its config and storage (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `podman args` with that environment; returns stdout; throws on a non-zero exit. */
  podman(args: readonly string[], input?: Buffer): string;
  /** Removes every container and network, resets its storage, unmounts and removes the dir. */
  stop(): void;
}

/**
 * Installs podman (and `extraPackages`) when missing, writes the private config and imports
 * busybox:1.36 as `localhost/busybox:1.36` and `docker.io/library/busybox:1.36`.
 * @throws Error from apt-get or podman (after cleaning up what it made)
 */
export function startPrivatePodman(extraPackages: readonly string[] = []): PrivatePodman {
  ensureDebPackages(['podman', 'runc', 'busybox-static', ...extraPackages]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-podman-'));
  for (const d of ['storage', 'run', 'tmp', 'networks', 'rootfs']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n` +
      `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n` +
      `tmp_dir = "${dir}/tmp"\n[network]\nnetwork_config_dir = "${dir}/networks"\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`,
  );
  const env = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  };
  const podman = (args: readonly string[], input?: Buffer): string =>
    execFileSync('podman', [...args], {
      env,
      encoding: 'utf8',
      ...(input ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  const stop = (): void => {
    try {
      podman(['rm', '-af', '-t', '0']);
      for (const n of podman(['network', 'ls', '--format', '{{.Name}}']).split('\n'))
        if (n !== '' && n !== 'podman') podman(['network', 'rm', '-f', n]);
      podman(['system', 'reset', '-f']);
    } catch (e) {
      console.error(`podman cleanup: ${String(e)}`);
    } finally {
      const mounts = fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(dir))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) execFileSync('umount', ['-l', m]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const root = path.join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'root']) fs.mkdirSync(path.join(root, d));
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    execFileSync('chroot', [root, '/bin/busybox', '--install', '-s', '/bin']);
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
    const tarball = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
    podman(['import', '--change', 'CMD ["sh"]', '-', 'localhost/busybox:1.36'], tarball);
    podman(['tag', 'localhost/busybox:1.36', 'docker.io/library/busybox:1.36']);
    return { env, podman, stop };
  } catch (e) {
    stop();
    throw e;
  }
}
