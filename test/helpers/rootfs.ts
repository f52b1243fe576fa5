/**
 * Test rootfs for runtime integration tests: compiles test/probe/probe.c statically with gcc into
 * a bare root filesystem (the probe, passwd/group, empty mount points) under /tmp/tsc-test-*.
 * No image or network needed. Every rootfs made here must be removed with cleanup().
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** A bare rootfs with the probe at /bin/probe. */
export interface TestRootfs {
  /** The temp dir holding rootfs/, state/ and anything else the test makes. */
  readonly dir: string;
  /** The root filesystem. */
  readonly rootfs: string;
  /** A state dir for one container (exit record, log). */
  readonly stateDir: string;
  /** A fresh 64-hex container id. */
  readonly id: string;
  /** Removes everything. */
  cleanup(): void;
}

/** Source of the probe. */
export const PROBE_SOURCE = resolve(__dirname, '..', 'probe', 'probe.c');

/** Compiles the probe statically into `out` (gcc -static). */
export function compileProbe(out: string): void {
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', out, PROBE_SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

let cachedProbe: string | undefined;

/** The probe compiled once per test file; call {@link releaseProbe} in afterAll. */
export function probeBinary(): string {
  if (cachedProbe && existsSync(cachedProbe)) return cachedProbe;
  const dir = mkdtempSync(join(tmpdir(), 'tsc-test-probe-'));
  const out = join(dir, 'probe');
  compileProbe(out);
  cachedProbe = out;
  return out;
}

/** Removes the compiled probe. */
export function releaseProbe(): void {
  if (cachedProbe) rmSync(dirname(cachedProbe), { recursive: true, force: true });
  cachedProbe = undefined;
}

/** passwd(5) of the test rootfs. */
export const TEST_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  '',
].join('\n');

/** group(5) of the test rootfs: app is also in staff (50) and audio (29). */
export const TEST_GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'tty:x:5:',
  'audio:x:29:app',
  'staff:x:50:app',
  'app:x:1000:',
  'nogroup:x:65534:',
  '',
].join('\n');

/** Makes a bare rootfs with the probe under /tmp/tsc-test-rootfs-*. */
export function makeRootfs(): TestRootfs {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-test-rootfs-'));
  chmodSync(dir, 0o755); // traversable by a remapped container root (user namespace tests)
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp', 'root', 'home/app'])
    mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(probeBinary(), join(rootfs, 'bin', 'probe'));
  writeFileSync(join(rootfs, 'etc', 'passwd'), TEST_PASSWD);
  writeFileSync(join(rootfs, 'etc', 'group'), TEST_GROUP);
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  return {
    dir,
    rootfs,
    stateDir,
    id: randomBytes(32).toString('hex'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
