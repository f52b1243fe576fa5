import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ContentStore,
  atomicWriteJson,
  readJsonIfExists,
} from '../../../../engine/images/content-store.js';
import { chainIds, sha256Digest } from '../../../../engine/images/oci.js';

function digestOf(s: string): string {
  return `sha256:${createHash('sha256').update(s).digest('hex')}`;
}

describe('ContentStore', () => {
  let root: string;
  let store: ContentStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-cs-'));
    store = new ContentStore({ root });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stores a verified blob under blobs/sha256/<hex>', async () => {
    const d = await store.put(Buffer.from('hello'));
    expect(d).toBe(digestOf('hello'));
    expect(fs.readFileSync(path.join(root, 'blobs/sha256', d.slice(7)), 'utf8')).toBe('hello');
    expect(await store.has(d)).toBe(true);
    expect(await store.size(d)).toBe(5);
    expect(await store.list()).toEqual([d]);
  });

  it('streams chunks through the hash', async () => {
    // eslint-disable-next-line @typescript-eslint/require-await
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('ab');
      yield Buffer.from('cd');
    }
    await store.write({ digest: digestOf('abcd'), size: 4 }, chunks());
    expect((await store.read(digestOf('abcd'))).toString()).toBe('abcd');
  });

  it('refuses content whose digest does not match and stores nothing', async () => {
    await expect(
      store.write({ digest: digestOf('good') }, Buffer.from('evil')),
    ).rejects.toMatchObject({
      code: 'TSC_IMAGE_DIGEST',
    });
    expect(await store.has(digestOf('good'))).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'ingest'))).toEqual([]);
  });

  it('refuses content larger than its descriptor size', async () => {
    await expect(
      store.write({ digest: digestOf('abc'), size: 2 }, Buffer.from('abc')),
    ).rejects.toMatchObject({ code: 'TSC_IMAGE_DIGEST' });
    expect(fs.readdirSync(path.join(root, 'ingest'))).toEqual([]);
  });

  it('refuses manifests above the size limit on read', async () => {
    const d = await store.put(Buffer.alloc(100));
    await expect(store.read(d, 10)).rejects.toMatchObject({ code: 'TSC_IMAGE_DIGEST' });
  });

  it('reports missing blobs as not found', async () => {
    await expect(store.read(digestOf('x'))).rejects.toMatchObject({ code: 'TSC_IMAGE_NOT_FOUND' });
  });

  it('rejects malformed digests', () => {
    expect(() => store.blobPath('sha256:../../etc')).toThrow(/unsupported/);
  });

  it('resets a writer to restart a download', async () => {
    const w = await store.writer({ digest: digestOf('xyz'), size: 3 });
    await w.write(Buffer.from('q'));
    await w.reset();
    await w.write(Buffer.from('xyz'));
    await w.commit();
    expect((await store.read(digestOf('xyz'))).toString()).toBe('xyz');
  });
});

describe('atomicWriteJson', () => {
  it('writes through a temp file and leaves only the target', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-aw-'));
    try {
      const f = path.join(dir, 'a/b.json');
      await atomicWriteJson(f, { x: 1 });
      await atomicWriteJson(f, { x: 2 });
      expect(await readJsonIfExists(f)).toEqual({ x: 2 });
      expect(fs.readdirSync(path.dirname(f))).toEqual(['b.json']);
      expect(await readJsonIfExists(path.join(dir, 'none.json'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chainIds', () => {
  it('follows image-spec config.md', () => {
    const a = digestOf('a');
    const b = digestOf('b');
    const c = digestOf('c');
    const ab = sha256Digest(`${a} ${b}`);
    expect(chainIds([a, b, c])).toEqual([a, ab, sha256Digest(`${ab} ${c}`)]);
    expect(chainIds([])).toEqual([]);
  });
});
