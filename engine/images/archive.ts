/**
 * Image archives: `load` (docker-archive and OCI-layout tars), `save` (both formats in one tar,
 * like Docker 25+), and `import` (a rootfs tar plus `--change` instructions). Works through the
 * ImageStore; never touches registries.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TscError, UsageError } from '../../base/errors.js';
import type { HostOps } from './host-ops.js';
import {
  defaultPlatform,
  isIndexType,
  MAX_MANIFEST_SIZE,
  MEDIA_TYPES,
  selectManifest,
  sha256Digest,
  type Descriptor,
  type ImageConfig,
  type ImageRuntimeConfig,
  type Index,
} from './oci.js';
import { familiarName, familiarString, parseReference } from './reference.js';
import type { ImageStore } from './store.js';
import {
  applyLayer,
  createDecompress,
  HashingStream,
  sniffCompression,
  tarStream,
} from './unpack.js';

/** A HostOps for unpacking archives: archives carry no devices or whiteouts worth creating. */
const noDeviceOps: HostOps = {
  mknod: (p) =>
    Promise.reject(new TscError('TSC_IMAGE_UNPACK', `load archive: unexpected special file ${p}`)),
  setxattr: () => Promise.resolve(),
};

async function withTempDir<T>(store: ImageStore, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = path.join(store.root, 'tmp', `archive-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function fileDigest(file: string): Promise<{ digest: string; size: number }> {
  const h = new HashingStream();
  await pipeline(createReadStream(file), h, async function* (src) {
    for await (const _ of src) yield* [];
  });
  return { digest: h.digest(), size: h.size };
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b;
  } finally {
    await fh.close();
  }
}

/** Resolves an archive-relative path, following symlinks, and refuses anything outside `dir`. */
async function inside(dir: string, rel: string): Promise<string> {
  const escapes = (): TscError =>
    new TscError('TSC_IMAGE_UNPACK', `load archive: ${JSON.stringify(rel)} escapes the archive`);
  const p = path.resolve(dir, rel);
  if (!p.startsWith(dir + path.sep)) throw escapes();
  const real = await fsp.realpath(p);
  const realDir = await fsp.realpath(dir);
  if (!real.startsWith(realDir + path.sep)) throw escapes();
  return real;
}

/** One entry of a docker-archive `manifest.json`. */
interface ArchiveManifestEntry {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

/**
 * Loads images from a tar (`docker load`): a docker-archive (`manifest.json`) or an OCI image
 * layout (`oci-layout`, `index.json`, `blobs/`). Every blob is verified. Returns the loaded image
 * IDs with their tags.
 * @throws TscError TSC_IMAGE_UNPACK (bad archive), TSC_IMAGE_DIGEST (blob does not match)
 */
export async function loadImages(
  store: ImageStore,
  source: Readable | string,
  options: { platform?: string } = {},
): Promise<Array<{ id: string; tags: string[] }>> {
  return withTempDir(store, async (dir) => {
    const input = typeof source === 'string' ? createReadStream(source) : source;
    const head = await peek(input);
    await applyLayer(head.stream.pipe(createDecompress(sniffCompression(head.bytes))), dir, {
      hostOps: noDeviceOps,
      chown: false,
      allowDevices: false,
    });
    const has = (f: string): Promise<boolean> =>
      fsp.access(path.join(dir, f)).then(
        () => true,
        () => false,
      );
    if (await has('manifest.json')) return loadDockerArchive(store, dir);
    if ((await has('index.json')) && (await has('oci-layout')))
      return loadOciLayout(store, dir, options);
    throw new TscError(
      'TSC_IMAGE_UNPACK',
      'load archive: neither manifest.json nor an OCI layout found',
    );
  });
}

async function peek(stream: Readable): Promise<{ bytes: Buffer; stream: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const bytes = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  async function* rest(): AsyncGenerator<Buffer> {
    yield bytes;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield Buffer.from(n.value);
    }
  }
  return { bytes, stream: Readable.from(rest()) };
}

async function storeFile(
  store: ImageStore,
  file: string,
): Promise<{ digest: string; size: number }> {
  const d = await fileDigest(file);
  await store.content.write(d, createReadStream(file));
  return d;
}

async function loadDockerArchive(
  store: ImageStore,
  dir: string,
): Promise<Array<{ id: string; tags: string[] }>> {
  const entries = JSON.parse(
    await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8'),
  ) as ArchiveManifestEntry[];
  const out: Array<{ id: string; tags: string[] }> = [];
  for (const e of entries) {
    const config = await storeFile(store, await inside(dir, e.Config));
    const parsed = await store.content.readJson<ImageConfig>(config.digest, MAX_MANIFEST_SIZE);
    if (parsed.rootfs.diff_ids.length !== e.Layers.length) {
      throw new TscError(
        'TSC_IMAGE_UNPACK',
        `load archive: ${e.Config} lists ${parsed.rootfs.diff_ids.length} diff_ids for ${e.Layers.length} layers`,
      );
    }
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const file = await inside(dir, l);
      const kind = sniffCompression(await readHead(file));
      const d = await storeFile(store, file);
      const mediaType =
        kind === 'gzip'
          ? MEDIA_TYPES.dockerLayerGzip
          : kind === 'zstd'
            ? MEDIA_TYPES.dockerLayerZstd
            : MEDIA_TYPES.dockerLayer;
      layers.push({ mediaType, digest: d.digest, size: d.size });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: MEDIA_TYPES.dockerConfig, digest: config.digest, size: config.size },
        layers,
      }),
    );
    const manifestDigest = await store.content.put(manifest);
    const tags = [...(e.RepoTags ?? [])];
    const id = await store.register(manifestDigest, tags);
    out.push({ id, tags: tags.map((t) => familiarString(parseReference(t))) });
  }
  return out;
}

async function loadOciLayout(
  store: ImageStore,
  dir: string,
  options: { platform?: string },
): Promise<Array<{ id: string; tags: string[] }>> {
  const blobDir = path.join(dir, 'blobs', 'sha256');
  for (const name of (await fsp.readdir(blobDir).catch(() => [] as string[])).sort()) {
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    const file = path.join(blobDir, name);
    await store.content.write({ digest: `sha256:${name}` }, createReadStream(file));
  }
  const index = JSON.parse(await fsp.readFile(path.join(dir, 'index.json'), 'utf8')) as Index;
  const out: Array<{ id: string; tags: string[] }> = [];
  for (const desc of index.manifests) {
    let manifest = desc;
    if (isIndexType(desc.mediaType)) {
      const inner = await store.content.readJson<Index>(desc.digest, MAX_MANIFEST_SIZE);
      const chosen = selectManifest(inner, defaultPlatform(options.platform));
      if (!chosen) continue;
      manifest = chosen;
    }
    const name =
      desc.annotations?.['io.containerd.image.name'] ??
      desc.annotations?.['org.opencontainers.image.ref.name'];
    const tags: string[] = [];
    if (name !== undefined) {
      try {
        parseReference(name);
        if (name.includes('/') || name.includes(':')) tags.push(name);
      } catch (e) {
        if (!(e instanceof TscError)) throw e;
      }
    }
    const id = await store.register(manifest.digest, tags);
    out.push({ id, tags: tags.map((t) => familiarString(parseReference(t))) });
  }
  return out;
}

/**
 * Writes images to a tar (`docker save`): an OCI layout (`oci-layout`, `index.json`,
 * `blobs/sha256/`) plus a docker-archive `manifest.json` over the same blobs and the legacy
 * `repositories` file (`{"busybox":{"1.36":"<image id hex>"}}`). Layers stay as stored (gzip
 * when pulled); dockerd's and our loaders decompress them.
 * @throws EngineError TSC_IMAGE_NOT_FOUND
 */
export async function saveImages(
  store: ImageStore,
  names: readonly string[],
  out: Writable,
): Promise<void> {
  const pack = tarStream().pack();
  const done = pipeline(pack as unknown as Readable, out);
  const written = new Set<string>();
  const indexEntries: Descriptor[] = [];
  const manifestJson: ArchiveManifestEntry[] = [];
  // legacy `repositories` (name -> tag -> id); loaders that read manifest.json ignore it
  const repositories: Record<string, Record<string, string>> = {};
  const addBlob = async (digest: string): Promise<void> => {
    if (written.has(digest)) return;
    written.add(digest);
    const size = (await store.content.size(digest)) ?? 0;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(
        { name: `blobs/sha256/${digest.slice(7)}`, size, mode: 0o644, mtime: new Date(0) },
        (e) => (e ? reject(e) : resolve()),
      );
      pipeline(store.content.createReadStream(digest), sink as unknown as Writable).catch(reject);
    });
  };
  const addFile = (name: string, data: string): Promise<void> =>
    new Promise((resolve, reject) =>
      pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  for (const n of names) {
    const id = await store.resolveImage(n);
    const r = (await store.record(id))!;
    for (const l of r.layers) await addBlob(l.digest);
    await addBlob(id);
    await addBlob(r.manifestDigest);
    const tags = await store.tags(id);
    let explicit: string | undefined;
    try {
      const ref = parseReference(n);
      if (
        ref.digest === undefined &&
        tags.includes(`${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`)
      ) {
        explicit = `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`;
      }
    } catch (e) {
      if (!(e instanceof TscError)) throw e;
    }
    const repoTags = explicit ? [explicit] : tags;
    const size = (await store.content.size(r.manifestDigest)) ?? 0;
    for (const t of repoTags.length > 0 ? repoTags : [undefined]) {
      indexEntries.push({
        mediaType: r.manifestMediaType,
        digest: r.manifestDigest,
        size,
        ...(t
          ? {
              annotations: {
                'io.containerd.image.name': t,
                'org.opencontainers.image.ref.name': t.slice(t.lastIndexOf(':') + 1),
              },
            }
          : {}),
      });
    }
    for (const t of repoTags) {
      const ref = parseReference(t);
      const repo = familiarName(ref);
      (repositories[repo] ??= {})[ref.tag ?? 'latest'] = id.slice(7);
    }
    manifestJson.push({
      Config: `blobs/sha256/${id.slice(7)}`,
      RepoTags: repoTags.map((t) => familiarString(parseReference(t))),
      Layers: r.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    });
  }
  await addFile('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await addFile(
    'index.json',
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: indexEntries }),
  );
  await addFile('manifest.json', JSON.stringify(manifestJson));
  await addFile('repositories', JSON.stringify(repositories));
  pack.finalize();
  await done;
}

/** Options of {@link importImage}. */
export interface ImportOptions {
  /** Tag for the new image (`docker import file repo:tag`). */
  readonly reference?: string | undefined;
  /** Dockerfile instructions applied to the config (`--change`). */
  readonly changes?: readonly string[] | undefined;
  /** History comment (`--message`). */
  readonly message?: string | undefined;
  /** `os/arch[/variant]` of the config (default the host). */
  readonly platform?: string | undefined;
}

/**
 * Creates an image from a rootfs tar (`docker import`; plain, gzip or zstd): one gzip layer, a
 * config built from `--change` instructions. Returns the image ID.
 * @throws UsageError for an invalid change; TscError TSC_IMAGE_UNPACK for a bad tar
 */
export async function importImage(
  store: ImageStore,
  source: Readable | string,
  options: ImportOptions = {},
): Promise<string> {
  const runtime = parseChanges(options.changes ?? []);
  return withTempDir(store, async (dir) => {
    const raw = path.join(dir, 'rootfs');
    await pipeline(
      typeof source === 'string' ? createReadStream(source) : source,
      createWriteStream(raw),
    );
    const diff = new HashingStream();
    const blob = new HashingStream();
    const gz = path.join(dir, 'layer.tar.gz');
    await pipeline(
      createReadStream(raw),
      createDecompress(sniffCompression(await readHead(raw))),
      diff,
      createGzip(),
      blob,
      createWriteStream(gz),
    );
    await store.content.write({ digest: blob.digest(), size: blob.size }, createReadStream(gz));
    const platform = defaultPlatform(options.platform);
    const created = new Date().toISOString();
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        config: runtime,
        rootfs: { type: 'layers', diff_ids: [diff.digest()] },
        history: [
          {
            created,
            created_by: 'tscompose import',
            ...(options.message ? { comment: options.message } : {}),
          },
        ],
      }),
    );
    const configDigest = await store.content.put(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
        layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: blob.digest(), size: blob.size }],
      }),
    );
    const manifestDigest = await store.content.put(manifest);
    if (sha256Digest(manifest) !== manifestDigest)
      throw new TscError('TSC_IMAGE_DIGEST', 'import: manifest digest');
    return store.register(manifestDigest, options.reference ? [options.reference] : []);
  });
}

/** Splits on whitespace, honouring double/single quotes and backslash escapes (Dockerfile words). */
function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (any || cur !== '') out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any || cur !== '') out.push(cur);
  return out;
}

function jsonOrShell(instr: string, args: string): string[] {
  if (args.trimStart().startsWith('[')) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // not JSON: shell form, like Docker
    }
  }
  if (args.trim() === '') throw new UsageError(`${instr} requires at least one argument`);
  return ['/bin/sh', '-c', args];
}

function keyValues(instr: string, args: string): Array<[string, string]> {
  const ws = words(args);
  if (ws.length === 0) throw new UsageError(`${instr} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    // legacy `ENV key value with spaces`
    const key = ws[0]!;
    return [[key, args.trim().slice(key.length).trim()]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new UsageError(`${instr}: ${JSON.stringify(w)} must be key=value`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/**
 * Applies `docker import --change` instructions (CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, USER,
 * LABEL, VOLUME, STOPSIGNAL) to a config, in order, Dockerfile syntax.
 * @throws UsageError for other instructions (`run is not a valid change command`) or bad args
 */
export function parseChanges(
  changes: readonly string[],
  base: ImageRuntimeConfig = {},
): ImageRuntimeConfig {
  let cfg: {
    -readonly [K in keyof ImageRuntimeConfig]: ImageRuntimeConfig[K];
  } = { ...base };
  for (const change of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(change);
    if (!m) continue;
    const instr = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    switch (instr) {
      case 'CMD':
        cfg.Cmd = jsonOrShell(instr, args);
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = jsonOrShell(instr, args);
        break;
      case 'ENV': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues(instr, args)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues(instr, args)) labels[k] = v;
        cfg.Labels = labels;
        break;
      }
      case 'WORKDIR': {
        const w = words(args)[0];
        if (!w) throw new UsageError('WORKDIR requires exactly one argument');
        cfg.WorkingDir = path.posix.resolve(cfg.WorkingDir || '/', w);
        break;
      }
      case 'USER': {
        const u = words(args)[0];
        if (!u) throw new UsageError('USER requires exactly one argument');
        cfg.User = u;
        break;
      }
      case 'EXPOSE': {
        const ports: Record<string, object> = { ...(cfg.ExposedPorts ?? {}) };
        for (const w of words(args)) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
          if (!pm) throw new UsageError(`EXPOSE: invalid port ${JSON.stringify(w)}`);
          const from = Number(pm[1]);
          const to = pm[2] ? Number(pm[2]) : from;
          for (let p = from; p <= to; p++) ports[`${p}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols: Record<string, object> = { ...(cfg.Volumes ?? {}) };
        const list = args.startsWith('[') ? jsonOrShell(instr, args) : words(args);
        for (const v of list) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'STOPSIGNAL':
        cfg.StopSignal = args;
        break;
      default:
        throw new UsageError(`${instr.toLowerCase()} is not a valid change command`);
    }
  }
  cfg = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined));
  return cfg;
}
