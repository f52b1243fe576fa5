/**
 * The typed face of the native addon (build/Release/tscompose.node) and the shim binary: loads
 * them once, checks the ABI version, and turns -errno results into NativeError. Must not decide
 * anything about containers; engine/runtime does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { NativeError, TscError } from '../base/errors.js';
import { LAUNCH_SPEC_VERSION, type LaunchSpec } from './launch-spec.js';

export * from './launch-spec.js';

/** The ABI this TypeScript expects from the addon (`kAbiVersion` in native/src/addon.cc). */
export const ABI_VERSION = 1;

/** The raw addon exports (native/src/addon.cc). Numbers < 0 are -errno. */
export interface RawBinding {
  readonly abiVersion: number;
  readonly specVersion: number;
  encodeLaunchSpec(spec: LaunchSpec): Buffer;
  decodeLaunchSpec(blob: Buffer): LaunchSpec | number;
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): number;
  umount2(target: string, flags: number): number;
  pidfdOpen(pid: number, flags: number): number;
  pidfdSendSignal(pidfd: number, signal: number): number;
  close(fd: number): number;
  mknod(path: string, mode: number, major: number, minor: number): number;
  setxattr(path: string, name: string, value: Buffer, flags: number): number;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): number;
  lgetxattr(path: string, name: string): Buffer | number;
}

/** umount2(2) flags. */
export const MNT = { FORCE: 1, DETACH: 2, EXPIRE: 4 } as const;

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** The errno name (`ENOENT`) of a positive errno number, or `E<n>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The directory holding tscompose.node and tscompose-shim (source tree or dist/). */
export function buildDir(): string {
  const candidates = [
    resolve(__dirname, '..', 'build', 'Release'),
    resolve(__dirname, '..', '..', 'build', 'Release'),
  ];
  for (const dir of candidates) if (existsSync(join(dir, 'tscompose.node'))) return dir;
  throw new TscError(
    'TSC_NATIVE_LOAD',
    `load native addon: not found in ${candidates.join(' or ')}`,
    {
      hint: 'run `npm install` (it builds the addon with node-gyp)',
    },
  );
}

let loaded: RawBinding | undefined;

/**
 * Loads the addon once and checks `abiVersion`.
 * @throws TscError TSC_NATIVE_LOAD when it is missing, TSC_NATIVE_ABI when it is stale.
 */
export function loadBinding(): RawBinding {
  if (loaded) return loaded;
  const dir = buildDir();
  let raw: RawBinding;
  try {
    raw = createRequire(__filename)(join(dir, 'tscompose.node')) as RawBinding;
  } catch (e) {
    throw new TscError('TSC_NATIVE_LOAD', `load native addon ${dir}/tscompose.node`, {
      cause: e,
      hint: 'run `npm rebuild`',
    });
  }
  if (raw.abiVersion !== ABI_VERSION || raw.specVersion !== LAUNCH_SPEC_VERSION) {
    throw new TscError(
      'TSC_NATIVE_ABI',
      `load native addon: abi ${raw.abiVersion}/spec ${raw.specVersion}, expected ${ABI_VERSION}/${LAUNCH_SPEC_VERSION}`,
      { hint: 'run `npm rebuild`' },
    );
  }
  loaded = raw;
  return raw;
}

/**
 * Absolute path of the tscompose-shim executable.
 * @throws TscError TSC_NATIVE_LOAD when it was not built.
 */
export function shimPath(): string {
  const path = join(buildDir(), 'tscompose-shim');
  if (!existsSync(path)) {
    throw new TscError('TSC_NATIVE_LOAD', `find tscompose-shim: ${path} is missing`, {
      hint: 'run `npm rebuild`',
    });
  }
  return path;
}

function check(result: number, syscall: string, path: string | undefined, what: string): number {
  if (result >= 0) return result;
  const code = errnoName(-result);
  throw new NativeError(syscall, code, path, `${what}: ${code}`);
}

/** Encodes a LaunchSpec into the versioned binary blob the shim reads (native/src/spec.c). */
export function encodeLaunchSpec(spec: LaunchSpec): Buffer {
  return loadBinding().encodeLaunchSpec(spec);
}

/**
 * Decodes a blob back into a LaunchSpec (tests, diagnostics).
 * @throws NativeError EINVAL for a malformed blob, EPROTO for another version.
 */
export function decodeLaunchSpec(blob: Buffer): LaunchSpec {
  const r = loadBinding().decodeLaunchSpec(blob);
  if (typeof r === 'number') check(r, 'decode', undefined, 'decode launch spec');
  return r as LaunchSpec;
}

/** mount(2). Empty strings pass NULL. @throws NativeError naming source and target. */
export function mount(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data = '',
): void {
  const r = loadBinding().mount(source || null, target, fstype || null, flags, data || null);
  check(r, 'mount', target, `mount ${source || fstype || 'none'} on ${target}`);
}

/** umount2(2) with {@link MNT} flags. @throws NativeError */
export function umount2(target: string, flags = 0): void {
  check(loadBinding().umount2(target, flags), 'umount2', target, `umount ${target}`);
}

/** pidfd_open(2): a file descriptor that keeps naming this process. @throws NativeError */
export function pidfdOpen(pid: number): number {
  return check(loadBinding().pidfdOpen(pid, 0), 'pidfd_open', undefined, `pidfd_open ${pid}`);
}

/** pidfd_send_signal(2). @throws NativeError (ESRCH once the process has been reaped) */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(
    loadBinding().pidfdSendSignal(pidfd, signal),
    'pidfd_send_signal',
    undefined,
    `signal ${signal}`,
  );
}

/** close(2) for descriptors the addon returned. */
export function closeFd(fd: number): void {
  check(loadBinding().close(fd), 'close', undefined, `close fd ${fd}`);
}

/** mknod(2): `mode` includes S_IFCHR/S_IFBLK. @throws NativeError */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  check(loadBinding().mknod(path, mode, major, minor), 'mknod', path, `mknod ${path}`);
}

/** setxattr(2) (follows symlinks). @throws NativeError */
export function setxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(
    loadBinding().setxattr(path, name, value, flags),
    'setxattr',
    path,
    `setxattr ${name} on ${path}`,
  );
}

/** lsetxattr(2) (the link itself). @throws NativeError */
export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(
    loadBinding().lsetxattr(path, name, value, flags),
    'lsetxattr',
    path,
    `lsetxattr ${name} on ${path}`,
  );
}

/** lgetxattr(2); undefined when the attribute is absent (ENODATA). @throws NativeError */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const r = loadBinding().lgetxattr(path, name);
  if (typeof r !== 'number') return r;
  if (-r === constants.errno.ENODATA) return undefined;
  check(r, 'lgetxattr', path, `lgetxattr ${name} on ${path}`);
  return undefined;
}
