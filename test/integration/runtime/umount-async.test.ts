/**
 * native umount2Async: unmounts on the libuv pool what umount2 would, and reports errno the same
 * way (NativeError EINVAL for a directory that is no mount point).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NativeError } from '../../../base/errors.js';
import { mount, umount2Async } from '../../../native/index.js';
import { requireHost } from '../../helpers/host.js';

const run = requireHost({ root: true });
const d = run ? describe : describe.skip;

const mounted = (target: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);

d('native umount2Async', () => {
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
});
