/**
 * native mountAsync / umount2Async: mount and unmount on the libuv pool what mount / umount2
 * would, and report errno the same way (NativeError naming the call).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NativeError } from '../../../base/errors.js';
import { mount, mountAsync, umount2Async } from '../../../native/index.js';
import { requireHost } from '../../helpers/host.js';

const run = requireHost({ root: true });
const d = run ? describe : describe.skip;

const mounted = (target: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);

d('native mountAsync and umount2Async', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-test-umount-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('unmounts a tmpfs, then says EINVAL for the plain directory left', async () => {
    mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
    expect(mounted(dir)).toBe(true);
    await umount2Async(dir);
    expect(mounted(dir)).toBe(false);
    const err: unknown = await umount2Async(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).errno).toBe('EINVAL');
  });

  it('mounts a tmpfs with its data, and says ENOENT for a missing target', async () => {
    await mountAsync('tmpfs', dir, 'tmpfs', 0, 'size=1m,mode=0711');
    try {
      const line = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === dir);
      expect(line).toMatch(/ - tmpfs tmpfs .*mode=711/);
    } finally {
      await umount2Async(dir);
    }
    const err: unknown = await mountAsync('tmpfs', join(dir, 'missing'), 'tmpfs', 0).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).errno).toBe('ENOENT');
    expect((err as NativeError).syscall).toBe('mount');
  });
});
