/**
 * The seam for the few host calls Node lacks that unpacking needs (mknod, setxattr). Today it
 * shells out to mknod(1) and setfattr(1) (Debian `coreutils`, `attr`); the native addon replaces
 * it once it exports these calls. No policy here: callers decide what to create.
 */
import { execFile } from 'node:child_process';
import { NativeError } from '../../base/errors.js';

/** Kind of special file for {@link HostOps.mknod}: character, block device, or FIFO. */
export type SpecialFileKind = 'c' | 'b' | 'p';

/** Host operations used by unpack; swap in the addon's implementation when it exists. */
export interface HostOps {
  /**
   * Creates a special file (mknod(2)); mode bits are set by the caller afterwards.
   * @throws NativeError (syscall `mknod`) on failure
   */
  mknod(path: string, kind: SpecialFileKind, major: number, minor: number): Promise<void>;
  /**
   * Sets an extended attribute on a path without following a final symlink (lsetxattr(2)).
   * @throws NativeError (syscall `setxattr`) on failure
   */
  setxattr(path: string, name: string, value: Buffer): Promise<void>;
}

function run(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve(err ? stderr.trim() || err.message : undefined);
    });
  });
}

function errnoOf(text: string): string {
  if (/not permitted/i.test(text)) return 'EPERM';
  if (/not supported/i.test(text)) return 'ENOTSUP';
  if (/exists/i.test(text)) return 'EEXIST';
  if (/no such file/i.test(text)) return 'ENOENT';
  return 'EIO';
}

/** {@link HostOps} by running `mknod` and `setfattr -h` (package `attr`). */
export const shellHostOps: HostOps = {
  async mknod(path, kind, major, minor) {
    const args = kind === 'p' ? [path, 'p'] : [path, kind, String(major), String(minor)];
    const failure = await run('mknod', ['--', ...args]);
    if (failure !== undefined) {
      throw new NativeError('mknod', errnoOf(failure), path, `mknod ${path}: ${failure}`);
    }
  },
  async setxattr(path, name, value) {
    const failure = await run('setfattr', [
      '-h',
      '-n',
      name,
      '-v',
      `0s${value.toString('base64')}`,
      '--',
      path,
    ]);
    if (failure !== undefined) {
      throw new NativeError(
        'setxattr',
        errnoOf(failure),
        path,
        `setxattr ${name} on ${path}: ${failure}`,
      );
    }
  },
};
