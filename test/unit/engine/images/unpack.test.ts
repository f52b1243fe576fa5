import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import type { HostOps } from '../../../../engine/images/host-ops.js';
import {
  applyLayer,
  cleanEntryPath,
  resolveInRoot,
  unpackLayerFile,
} from '../../../../engine/images/unpack.js';

type Entry = tarStream.Header extends infer H
  ? Partial<H> & { name: string; body?: string }
  : never;

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ mode: 0o644, mtime: new Date(1_000_000_000_000), ...header }, body ?? '', (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A zstd frame made of raw (stored) blocks (RFC 8878 §3.1.1). */
function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0])];
  const fcs = Buffer.alloc(4);
  fcs.writeUInt32LE(data.length);
  parts.push(fcs);
  const max = 128 * 1024;
  for (let off = 0; off < data.length || off === 0; off += max) {
    const block = data.subarray(off, off + max);
    const last = off + max >= data.length ? 1 : 0;
    const h = (block.length << 3) | last;
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), block);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

class FakeHostOps implements HostOps {
  calls: string[] = [];
  mknod(p: string, kind: string, major: number, minor: number): Promise<void> {
    this.calls.push(`mknod ${p} ${kind} ${major} ${minor}`);
    fs.writeFileSync(p, `whiteout ${kind} ${major}:${minor}`);
    return Promise.resolve();
  }
  setxattr(p: string, name: string, value: Buffer): Promise<void> {
    this.calls.push(`setxattr ${p} ${name}=${value.toString()}`);
    return Promise.resolve();
  }
}

describe('cleanEntryPath', () => {
  it('drops leading slash and dots, resolves inner ..', () => {
    expect(cleanEntryPath('/etc/./passwd')).toEqual(['etc', 'passwd']);
    expect(cleanEntryPath('./a/b/../c/')).toEqual(['a', 'c']);
    expect(cleanEntryPath('./')).toEqual([]);
  });
  it('rejects names that climb above the root', () => {
    expect(() => cleanEntryPath('../etc/passwd')).toThrow(/escapes the root/);
    expect(() => cleanEntryPath('a/../../b')).toThrow(/escapes the root/);
  });
});

describe('applyLayer', () => {
  let tmp: string;
  let root: string;
  let ops: FakeHostOps;
  const apply = async (entries: Entry[], allowDevices = false) =>
    applyLayer(Readable.from(await makeTar(entries)), root, {
      hostOps: ops,
      chown: false,
      allowDevices,
    });

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-unpack-'));
    root = path.join(tmp, 'root');
    fs.mkdirSync(root);
    ops = new FakeHostOps();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes dirs, files, symlinks and hardlinks with modes and times', async () => {
    const r = await apply([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/busybox', body: 'ELF', mode: 0o4755 },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
      { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
      { name: 'etc/hostname', body: 'x\n' },
    ]);
    expect(r.entries).toBe(5);
    expect(r.bytes).toBe(5);
    expect(fs.readFileSync(path.join(root, 'bin/busybox'), 'utf8')).toBe('ELF');
    expect(fs.statSync(path.join(root, 'bin/busybox')).mode & 0o7777).toBe(0o4755);
    expect(fs.readlinkSync(path.join(root, 'bin/sh'))).toBe('busybox');
    expect(fs.statSync(path.join(root, 'bin/ls')).ino).toBe(
      fs.statSync(path.join(root, 'bin/busybox')).ino,
    );
    expect(fs.statSync(path.join(root, 'bin')).mtime.getTime()).toBe(1_000_000_000_000);
  });

  it('converts whiteouts to char 0/0 devices and opaque markers to the overlay xattr', async () => {
    await apply([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd' },
      { name: 'var/cache/.wh..wh..opq' },
      { name: 'var/.wh..wh.plnk' },
    ]);
    expect(ops.calls).toEqual([
      `mknod ${path.join(root, 'etc/motd')} c 0 0`,
      `setxattr ${path.join(root, 'var/cache')} trusted.overlay.opaque=y`,
    ]);
    expect(fs.existsSync(path.join(root, 'etc/.wh.motd'))).toBe(false);
  });

  it('rejects an empty whiteout name', async () => {
    await expect(apply([{ name: 'etc/.wh.' }])).rejects.toMatchObject({ code: 'TSC_IMAGE_UNPACK' });
  });

  it('rejects entries that climb out with ..', async () => {
    await expect(apply([{ name: '../escape', body: 'x' }])).rejects.toMatchObject({
      code: 'TSC_IMAGE_UNPACK',
    });
    expect(fs.existsSync(path.join(tmp, 'escape'))).toBe(false);
  });

  it('keeps absolute names inside the root', async () => {
    await apply([{ name: '/abs/file', body: 'x' }]);
    expect(fs.readFileSync(path.join(root, 'abs/file'), 'utf8')).toBe('x');
  });

  it('resolves symlinked parents inside the root (absolute and relative escapes)', async () => {
    fs.mkdirSync(path.join(tmp, 'outside'));
    await apply([
      { name: 'abs', type: 'symlink', linkname: path.join(tmp, 'outside') },
      { name: 'abs/pwned', body: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../../../outside' },
      { name: 'rel/pwned2', body: 'y' },
    ]);
    expect(fs.readdirSync(path.join(tmp, 'outside'))).toEqual([]);
    expect(fs.readFileSync(path.join(root, tmp, 'outside/pwned'), 'utf8')).toBe('x');
    expect(fs.readFileSync(path.join(root, 'outside/pwned2'), 'utf8')).toBe('y');
  });

  it('replaces a symlink instead of writing through it', async () => {
    fs.writeFileSync(path.join(tmp, 'target'), 'original');
    await apply([
      { name: 'f', type: 'symlink', linkname: path.join(tmp, 'target') },
      { name: 'f', body: 'new' },
    ]);
    expect(fs.readFileSync(path.join(tmp, 'target'), 'utf8')).toBe('original');
    expect(fs.readFileSync(path.join(root, 'f'), 'utf8')).toBe('new');
  });

  it('rejects hardlinks outside the root or to missing targets', async () => {
    fs.writeFileSync(path.join(tmp, 'secret'), 's');
    await expect(apply([{ name: 'h', type: 'link', linkname: '../secret' }])).rejects.toMatchObject(
      {
        code: 'TSC_IMAGE_UNPACK',
      },
    );
    await expect(
      apply([
        { name: 'l', type: 'symlink', linkname: tmp },
        { name: 'h', type: 'link', linkname: 'l/secret' },
      ]),
    ).rejects.toMatchObject({ code: 'TSC_IMAGE_UNPACK' });
    expect(fs.statSync(path.join(tmp, 'secret')).nlink).toBe(1);
  });

  it('skips device nodes when not allowed and creates them when allowed', async () => {
    const r = await apply([{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }]);
    expect(r.skipped).toEqual(['dev/sda: device nodes not allowed']);
    expect(ops.calls).toEqual([]);
    await apply(
      [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }],
      true,
    );
    expect(ops.calls).toEqual([`mknod ${path.join(root, 'dev/null')} c 1 3`]);
  });
});

describe('resolveInRoot', () => {
  it('stops at the root on symlink loops', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-loop-'));
    try {
      fs.symlinkSync('b', path.join(root, 'a'));
      fs.symlinkSync('a', path.join(root, 'b'));
      await expect(resolveInRoot(root, ['a', 'x'])).rejects.toThrow(/too many symlinks/);
      fs.symlinkSync('/', path.join(root, 'up'));
      expect(await resolveInRoot(root, ['up', '..', '..', 'etc'])).toBe(path.join(root, 'etc'));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('unpackLayerFile', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-ulf-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const run = async (blob: Buffer, diffId: string) => {
    const file = path.join(tmp, 'blob');
    fs.writeFileSync(file, blob);
    const dest = path.join(tmp, `fs-${Math.random()}`);
    const r = await unpackLayerFile(file, dest, {
      hostOps: new FakeHostOps(),
      chown: false,
      diffId,
    });
    return { r, dest };
  };

  it.each([
    ['plain', (b: Buffer) => b],
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['zstd', (b: Buffer) => zstdRawFrame(b)],
  ])('unpacks %s layers and checks the diff_id', async (_name, compress) => {
    const tar = await makeTar([{ name: 'hello', body: 'world'.repeat(50_000) }]);
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    const { r, dest } = await run(compress(tar), diffId);
    expect(r.diffId).toBe(diffId);
    expect(fs.readFileSync(path.join(dest, 'hello'), 'utf8')).toHaveLength(250_000);
  });

  it('fails with TSC_IMAGE_DIGEST when the diff_id differs', async () => {
    const tar = await makeTar([{ name: 'a', body: 'b' }]);
    await expect(run(gzipSync(tar), `sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({
      code: 'TSC_IMAGE_DIGEST',
    });
  });

  it('fails with TSC_IMAGE_UNPACK on corrupt gzip', async () => {
    const gz = gzipSync(await makeTar([{ name: 'a', body: 'b'.repeat(10000) }]));
    gz.fill(7, 20, 40);
    await expect(run(gz, `sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({
      code: 'TSC_IMAGE_UNPACK',
    });
  });
});
