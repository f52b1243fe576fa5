/**
 * The image store: image records (`<root>/images/`), pull, push, list, inspect, tag, remove,
 * prune and garbage collection of blobs and layer snapshots. Uses the content store, registry
 * client, unpack and snapshots; knows nothing of containers beyond an `isInUse` callback.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { EngineError, TscError } from '../../base/errors.js';
import {
  atomicWriteJson,
  ContentStore,
  DEFAULT_STATE_ROOT,
  readJsonIfExists,
} from './content-store.js';
import { shellHostOps, type HostOps } from './host-ops.js';
import {
  chainIds as computeChainIds,
  defaultPlatform,
  digestHex,
  isDigest,
  isIndexType,
  MAX_MANIFEST_SIZE,
  renderPlatform,
  selectManifest,
  type Descriptor,
  type ImageConfig,
  type ImageRuntimeConfig,
  type Index,
  type Manifest,
  type Platform,
} from './oci.js';
import {
  canonicalName,
  familiarString,
  parseReference,
  repositoryName,
  taggedName,
  type ImageReference,
} from './reference.js';
import {
  RegistryClient,
  runLimited,
  type RegistryClientOptions,
  type TransferProgress,
} from './registry.js';
import { SnapshotStore, type Mount, type SnapshotDriver } from './snapshot.js';
import { unpackLayerFile } from './unpack.js';

/** A stored image (`<root>/images/<id hex>.json`). Tags live in `repositories.json`. */
export interface ImageRecord {
  /** Image ID: the config digest. */
  readonly id: string;
  /** Digest of the platform manifest. */
  readonly manifestDigest: string;
  /** Media type of that manifest. */
  readonly manifestMediaType: string;
  /** `name@digest` references this image was pulled or pushed by (sorted). */
  readonly repoDigests: readonly string[];
  /** Compressed layer descriptors, bottom to top. */
  readonly layers: readonly Descriptor[];
  /** Uncompressed layer digests, bottom to top. */
  readonly diffIds: readonly string[];
  /** ChainIDs, bottom to top; the keys of the layer snapshots. */
  readonly chainIds: readonly string[];
  /** Sum of the layers' uncompressed sizes, bytes. */
  readonly size: number;
  /** When a tag last pointed here (RFC 3339). */
  readonly lastTagTime: string;
}

/** `repositories.json`: `name:tag` -> image ID. */
interface Repositories {
  readonly tags: Record<string, string>;
}

/** Docker `ImageSummary` (`GET /images/json`). Created in Unix seconds, sizes in bytes. */
export interface ImageSummary {
  readonly Id: string;
  readonly ParentId: string;
  readonly RepoTags: string[];
  readonly RepoDigests: string[];
  readonly Created: number;
  readonly Size: number;
  readonly SharedSize: number;
  readonly VirtualSize: number;
  readonly Labels: Record<string, string>;
  readonly Containers: number;
}

/** Docker `ImageInspect` (`GET /images/{name}/json`). */
export interface ImageInspect {
  readonly Id: string;
  readonly RepoTags: string[];
  readonly RepoDigests: string[];
  readonly Parent: string;
  readonly Comment: string;
  readonly Created: string;
  readonly DockerVersion: string;
  readonly Author: string;
  readonly Config: ImageRuntimeConfig;
  readonly Architecture: string;
  readonly Variant?: string | undefined;
  readonly Os: string;
  readonly OsVersion?: string | undefined;
  readonly Size: number;
  readonly VirtualSize: number;
  readonly GraphDriver: { readonly Name: string; readonly Data: Record<string, string> };
  readonly RootFS: { readonly Type: string; readonly Layers: string[] };
  readonly Metadata: { readonly LastTagTime: string };
}

/** One line of Docker's `DELETE /images/{name}` answer. */
export type ImageDeleteItem = { readonly Untagged: string } | { readonly Deleted: string };

/** Options of {@link ImageStore}. */
export interface ImageStoreOptions {
  /** State root (default {@link DEFAULT_STATE_ROOT}). */
  readonly root?: string | undefined;
  /** The registry client, or options to build one. */
  readonly registry?: RegistryClient | RegistryClientOptions | undefined;
  /** mknod/setxattr provider (default {@link shellHostOps}). */
  readonly hostOps?: HostOps | undefined;
  /** Snapshot driver (default overlay when available). */
  readonly snapshotDriver?: SnapshotDriver | undefined;
  /** Parallel layer downloads (Docker's `max-concurrent-downloads`, default 3). */
  readonly concurrency?: number | undefined;
}

/** Options of {@link ImageStore.pull}. */
export interface PullOptions {
  /** `os/arch[/variant]`; default `DOCKER_DEFAULT_PLATFORM`, else the host. */
  readonly platform?: string | undefined;
  /** Per-layer progress. */
  readonly onProgress?: ((p: TransferProgress) => void) | undefined;
}

/** Options of {@link ImageStore.remove}. */
export interface RemoveOptions {
  /** Remove even when tagged several times or used by containers. */
  readonly force?: boolean | undefined;
  /** True when a container uses the image (by ID). */
  readonly isInUse?: ((imageId: string) => boolean) | undefined;
}

function notFound(name: string): EngineError {
  return new EngineError('TSC_IMAGE_NOT_FOUND', { kind: 'image', name }, `No such image: ${name}`);
}

/**
 * The local image store. Records are JSON written atomically; a process-wide lock orders record
 * updates; blobs and snapshots are shared between images and collected when unreferenced.
 */
export class ImageStore {
  /** State root. */
  readonly root: string;
  /** Blobs. */
  readonly content: ContentStore;
  /** Layer and container snapshots. */
  readonly snapshots: SnapshotStore;
  /** Registry client. */
  readonly registry: RegistryClient;
  private readonly hostOps: HostOps;
  private readonly concurrency: number;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly pinned = new Map<string, number>();

  constructor(options: ImageStoreOptions = {}) {
    this.root = options.root ?? DEFAULT_STATE_ROOT;
    this.hostOps = options.hostOps ?? shellHostOps;
    this.content = new ContentStore({ root: this.root });
    this.snapshots = new SnapshotStore({
      root: this.root,
      hostOps: this.hostOps,
      driver: options.snapshotDriver,
    });
    this.registry =
      options.registry instanceof RegistryClient
        ? options.registry
        : new RegistryClient(options.registry ?? {});
    this.concurrency = options.concurrency ?? 3;
  }

  private get imagesDir(): string {
    return path.join(this.root, 'images');
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private pin(digests: readonly string[]): () => void {
    for (const d of digests) this.pinned.set(d, (this.pinned.get(d) ?? 0) + 1);
    return () => {
      for (const d of digests) {
        const n = (this.pinned.get(d) ?? 1) - 1;
        if (n <= 0) this.pinned.delete(d);
        else this.pinned.set(d, n);
      }
    };
  }

  private async repositories(): Promise<Repositories> {
    return (
      (await readJsonIfExists<Repositories>(path.join(this.imagesDir, 'repositories.json'))) ?? {
        tags: {},
      }
    );
  }

  private async writeRepositories(repos: Repositories): Promise<void> {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(repos.tags).sort()) sorted[k] = repos.tags[k]!;
    await atomicWriteJson(path.join(this.imagesDir, 'repositories.json'), { tags: sorted });
  }

  private recordPath(id: string): string {
    return path.join(this.imagesDir, `${digestHex(id)}.json`);
  }

  /** The record of an image ID, or undefined. */
  async record(id: string): Promise<ImageRecord | undefined> {
    if (!isDigest(id)) return undefined;
    return readJsonIfExists<ImageRecord>(this.recordPath(id));
  }

  /** Every image record, sorted by ID. */
  async records(): Promise<ImageRecord[]> {
    const names = await fsp.readdir(this.imagesDir).catch(() => [] as string[]);
    const out: ImageRecord[] = [];
    for (const n of names.filter((x) => /^[a-f0-9]{64}\.json$/.test(x)).sort()) {
      const r = await readJsonIfExists<ImageRecord>(path.join(this.imagesDir, n));
      if (r) out.push(r);
    }
    return out;
  }

  private async tagsOf(id: string): Promise<string[]> {
    const repos = await this.repositories();
    return Object.keys(repos.tags)
      .filter((t) => repos.tags[t] === id)
      .sort();
  }

  /**
   * Finds an image by `sha256:<id>`, an ID prefix (at least 4 hex chars), `name[:tag]` or
   * `name@digest`. Returns its ID.
   * @throws EngineError TSC_IMAGE_NOT_FOUND (`No such image: x`)
   */
  async resolveImage(nameOrId: string): Promise<string> {
    const id = await this.findImage(nameOrId);
    if (id === undefined) throw notFound(nameOrId);
    return id;
  }

  private async findImage(nameOrId: string): Promise<string | undefined> {
    const hex = nameOrId.startsWith('sha256:') ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]{64}$/.test(hex)) {
      return (await this.record(`sha256:${hex}`)) ? `sha256:${hex}` : undefined;
    }
    let ref: ImageReference | undefined;
    try {
      ref = parseReference(nameOrId);
    } catch (e) {
      if (!(e instanceof TscError)) throw e;
    }
    if (ref) {
      if (ref.digest !== undefined) {
        const want = canonicalName(ref, ref.digest);
        for (const r of await this.records()) {
          if (r.repoDigests.includes(want) || r.manifestDigest === ref.digest) return r.id;
        }
      } else {
        const tag = taggedName(ref);
        const repos = await this.repositories();
        if (tag !== undefined && repos.tags[tag]) return repos.tags[tag];
      }
    }
    if (/^[a-f0-9]{4,63}$/.test(hex)) {
      const matches = (await this.records()).filter((r) => r.id.slice(7).startsWith(hex));
      if (matches.length === 1) return matches[0]!.id;
      if (matches.length > 1) {
        throw new EngineError(
          'TSC_ENGINE_CONFLICT',
          { kind: 'image', name: nameOrId },
          `image ID prefix ${hex} is ambiguous`,
        );
      }
    }
    return undefined;
  }

  /**
   * The image config blob of an image (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts,
   * Volumes, Healthcheck, StopSignal, Labels under `config`).
   * @throws EngineError TSC_IMAGE_NOT_FOUND
   */
  async imageConfig(nameOrId: string): Promise<ImageConfig> {
    const id = await this.resolveImage(nameOrId);
    return this.content.readJson<ImageConfig>(id, MAX_MANIFEST_SIZE);
  }

  /**
   * Pulls an image by tag or digest: resolve (HEAD), manifest or index (platform chosen, attestation
   * entries skipped), config, layers downloaded in parallel and unpacked into ChainID snapshots as
   * each arrives. Tags it, records `name@digest`. Returns the image ID.
   * @throws TscError TSC_IMAGE_REFERENCE, TSC_IMAGE_PULL, TSC_IMAGE_DIGEST, TSC_IMAGE_UNPACK
   */
  async pull(reference: string, options: PullOptions = {}): Promise<string> {
    const ref = parseReference(reference);
    const what = `pull ${familiarString(ref)}`;
    const platform = defaultPlatform(options.platform);
    const top = await this.fetchTop(ref);
    const unpinTop = this.pin([top.digest]);
    try {
      let manifestDesc: { digest: string; mediaType: string } = top;
      if (isIndexType(top.mediaType)) {
        const index = await this.content.readJson<Index>(top.digest, MAX_MANIFEST_SIZE);
        const chosen = selectManifest(index, platform);
        if (!chosen) {
          throw new TscError(
            'TSC_IMAGE_PULL',
            `${what}: no matching manifest for ${renderPlatform(platform)} in the manifest list entries`,
          );
        }
        manifestDesc = chosen;
        if (!(await this.content.has(chosen.digest))) {
          const m = await this.registry.fetchManifest(ref, chosen.digest);
          await this.content.write({ digest: chosen.digest }, m.bytes, MAX_MANIFEST_SIZE);
          manifestDesc = { digest: chosen.digest, mediaType: m.mediaType };
        }
      }
      const manifest = await this.content.readJson<Manifest>(
        manifestDesc.digest,
        MAX_MANIFEST_SIZE,
      );
      if (!manifest.config || !Array.isArray(manifest.layers)) {
        throw new TscError(
          'TSC_IMAGE_PULL',
          `${what}: unsupported manifest ${manifestDesc.mediaType}`,
        );
      }
      const id = await this.fetchImage(ref, manifestDesc, manifest, platform, options);
      const repoDigest = ref.digest ?? top.digest;
      await this.withLock(async () => {
        const record = await this.record(id);
        if (!record) throw notFound(id);
        const repoDigests = [
          ...new Set([...record.repoDigests, canonicalName(ref, repoDigest)]),
        ].sort();
        await atomicWriteJson(this.recordPath(id), {
          ...record,
          repoDigests,
          lastTagTime: new Date().toISOString(),
        });
        const tag = taggedName(ref);
        if (tag !== undefined) {
          const repos = await this.repositories();
          repos.tags[tag] = id;
          await this.writeRepositories(repos);
        }
      });
      return id;
    } finally {
      unpinTop();
    }
  }

  /** Stores the top-level manifest/index of a reference (HEAD first; GET when not stored). */
  private async fetchTop(ref: ImageReference): Promise<{ digest: string; mediaType: string }> {
    let desc: Descriptor | undefined;
    try {
      desc = await this.registry.resolve(ref);
    } catch (e) {
      if (!(e instanceof TscError) || e.code !== 'TSC_IMAGE_PULL') throw e;
      desc = undefined;
    }
    if (desc && (await this.content.has(desc.digest))) return desc;
    const m = await this.registry.fetchManifest(ref);
    await this.content.write(
      { digest: m.digest, size: m.bytes.length },
      m.bytes,
      MAX_MANIFEST_SIZE,
    );
    return { digest: m.digest, mediaType: m.mediaType };
  }

  private async fetchImage(
    ref: ImageReference,
    manifestDesc: { digest: string; mediaType: string },
    manifest: Manifest,
    platform: Platform,
    options: PullOptions,
  ): Promise<string> {
    const what = `pull ${familiarString(ref)}`;
    const unpin = this.pin([
      manifestDesc.digest,
      manifest.config.digest,
      ...manifest.layers.map((l) => l.digest),
    ]);
    try {
      if (!(await this.content.has(manifest.config.digest))) {
        const w = await this.content.writer(manifest.config, MAX_MANIFEST_SIZE);
        await this.registry.fetchBlob(ref, manifest.config, w);
      }
      const config = await this.content.readJson<ImageConfig>(
        manifest.config.digest,
        MAX_MANIFEST_SIZE,
      );
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) {
        throw new TscError(
          'TSC_IMAGE_PULL',
          `${what}: manifest has ${manifest.layers.length} layers but config has ${diffIds.length} diff_ids`,
        );
      }
      if (config.os && config.os !== platform.os) {
        throw new TscError(
          'TSC_IMAGE_PULL',
          `${what}: image is for ${config.os}, not ${platform.os}`,
        );
      }
      const chain = computeChainIds(diffIds);
      const order = manifest.layers.map((_, i) => i);
      await runLimited(order, this.concurrency, async (i) => {
        const layer = manifest.layers[i]!;
        const chainId = chain[i]!;
        if (await this.snapshots.hasLayer(chainId)) {
          options.onProgress?.({
            digest: layer.digest,
            current: layer.size,
            total: layer.size,
            status: 'exists',
          });
          if (!(await this.content.has(layer.digest))) {
            const w = await this.content.writer(layer);
            await this.registry.fetchBlob(ref, layer, w, options.onProgress);
          }
          return;
        }
        if (!(await this.content.has(layer.digest))) {
          const w = await this.content.writer(layer);
          await this.registry.fetchBlob(ref, layer, w, options.onProgress);
        } else {
          options.onProgress?.({
            digest: layer.digest,
            current: layer.size,
            total: layer.size,
            status: 'exists',
          });
        }
        await this.unpackLayer(layer.digest, diffIds[i]!, chainId);
      });
      return this.writeRecord(manifestDesc, manifest, config);
    } finally {
      unpin();
    }
  }

  /** Unpacks a stored layer blob into its ChainID snapshot (once; shared). */
  private async unpackLayer(blobDigest: string, diffId: string, chainId: string): Promise<void> {
    await this.snapshots.ensureLayer(chainId, async (dir) => {
      const r = await unpackLayerFile(this.content.blobPath(blobDigest), dir, {
        hostOps: this.hostOps,
        diffId,
      });
      await atomicWriteJson(path.join(path.dirname(dir), 'size.json'), { size: r.bytes });
      return r;
    });
  }

  /** Writes (or refreshes) the record of an image whose blobs and snapshots are in place. */
  private async writeRecord(
    manifestDesc: { digest: string; mediaType: string },
    manifest: Manifest,
    config: ImageConfig,
  ): Promise<string> {
    const id = manifest.config.digest;
    const diffIds = config.rootfs.diff_ids;
    const chain = computeChainIds(diffIds);
    let size = 0;
    for (const c of chain) {
      const s = await readJsonIfExists<{ size: number }>(
        path.join(this.snapshots.layerDir(c), 'size.json'),
      );
      size += s?.size ?? 0;
    }
    return this.withLock(async () => {
      const existing = await this.record(id);
      const record: ImageRecord = {
        id,
        manifestDigest: manifestDesc.digest,
        manifestMediaType: manifestDesc.mediaType,
        repoDigests: existing?.repoDigests ?? [],
        layers: manifest.layers,
        diffIds,
        chainIds: chain,
        size,
        lastTagTime: existing?.lastTagTime ?? new Date().toISOString(),
      };
      await atomicWriteJson(this.recordPath(id), record);
      return id;
    });
  }

  /**
   * Stores an image from blobs already in the content store (load, import): unpacks its layers
   * and writes its record; tags it with `tags` (normalised).
   */
  async register(manifestDigest: string, tags: readonly string[]): Promise<string> {
    const bytes = await this.content.read(manifestDigest, MAX_MANIFEST_SIZE);
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    const config = await this.content.readJson<ImageConfig>(
      manifest.config.digest,
      MAX_MANIFEST_SIZE,
    );
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new TscError(
        'TSC_IMAGE_PULL',
        `load image ${manifest.config.digest}: layers and diff_ids differ in number`,
      );
    }
    const chain = computeChainIds(diffIds);
    for (let i = 0; i < chain.length; i++) {
      await this.unpackLayer(manifest.layers[i]!.digest, diffIds[i]!, chain[i]!);
    }
    const id = await this.writeRecord(
      {
        digest: manifestDigest,
        mediaType: manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      },
      manifest,
      config,
    );
    for (const t of tags) await this.tag(id, t);
    return id;
  }

  /**
   * Tags an image (`docker tag`): the target is normalised (`busybox` -> `docker.io/library/busybox:latest`).
   * @throws TscError TSC_IMAGE_REFERENCE for a bad target or one with a digest; TSC_IMAGE_NOT_FOUND
   */
  async tag(source: string, target: string): Promise<void> {
    const id = await this.resolveImage(source);
    const ref = parseReference(target);
    const tag = taggedName(ref);
    if (ref.digest !== undefined || tag === undefined) {
      throw new TscError(
        'TSC_IMAGE_REFERENCE',
        `tag ${target}: refusing to create a tag with a digest reference`,
      );
    }
    await this.withLock(async () => {
      const repos = await this.repositories();
      repos.tags[tag] = id;
      await this.writeRepositories(repos);
      const record = await this.record(id);
      if (record)
        await atomicWriteJson(this.recordPath(id), {
          ...record,
          lastTagTime: new Date().toISOString(),
        });
    });
  }

  /** Docker `ImageSummary` list, newest first. */
  async list(options: { isInUse?: (imageId: string) => boolean } = {}): Promise<ImageSummary[]> {
    const out: Array<ImageSummary> = [];
    for (const r of await this.records()) {
      const config = await this.content
        .readJson<ImageConfig>(r.id, MAX_MANIFEST_SIZE)
        .catch(() => undefined);
      out.push({
        Id: r.id,
        ParentId: '',
        RepoTags: (await this.tagsOf(r.id)).map((t) => familiarString(parseReference(t))),
        RepoDigests: r.repoDigests.map((d) => familiarString(parseReference(d))),
        Created: config?.created ? Math.floor(Date.parse(config.created) / 1000) : 0,
        Size: r.size,
        SharedSize: -1,
        VirtualSize: r.size,
        Labels: { ...(config?.config?.Labels ?? {}) },
        Containers: options.isInUse ? (options.isInUse(r.id) ? 1 : 0) : -1,
      });
    }
    return out.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
  }

  /**
   * Docker's `ImageInspect` for an image.
   * @throws EngineError TSC_IMAGE_NOT_FOUND
   */
  async inspect(nameOrId: string): Promise<ImageInspect> {
    const id = await this.resolveImage(nameOrId);
    const r = await this.record(id);
    if (!r) throw notFound(nameOrId);
    const config = await this.content.readJson<ImageConfig>(id, MAX_MANIFEST_SIZE);
    const lowers = [...r.chainIds].reverse().map((c) => this.snapshots.layerFs(c));
    return {
      Id: id,
      RepoTags: (await this.tagsOf(id)).map((t) => familiarString(parseReference(t))),
      RepoDigests: r.repoDigests.map((d) => familiarString(parseReference(d))),
      Parent: '',
      Comment: config.comment ?? '',
      Created: config.created ?? '0001-01-01T00:00:00Z',
      DockerVersion: config.docker_version ?? '',
      Author: config.author ?? '',
      Config: config.config ?? {},
      Architecture: config.architecture,
      ...(config.variant ? { Variant: config.variant } : {}),
      Os: config.os,
      ...(config['os.version'] ? { OsVersion: config['os.version'] } : {}),
      Size: r.size,
      VirtualSize: r.size,
      GraphDriver: {
        Name: this.snapshots.driver === 'overlay' ? 'overlay2' : 'vfs',
        Data:
          lowers.length > 0
            ? {
                LowerDir: lowers.slice(1).join(':'),
                UpperDir: lowers[0]!,
                MergedDir: '',
                WorkDir: '',
              }
            : {},
      },
      RootFS: { Type: 'layers', Layers: [...r.diffIds] },
      Metadata: { LastTagTime: r.lastTagTime },
    };
  }

  /**
   * Removes an image reference or image (`docker rmi`): a `name:tag` of an image with other tags
   * only untags; an image used by a container is refused unless forced (and then only untagged);
   * an ID with several tags needs force. Unreferenced blobs and snapshots are collected.
   * @throws EngineError TSC_IMAGE_NOT_FOUND, TSC_ENGINE_CONFLICT
   */
  async remove(nameOrId: string, options: RemoveOptions = {}): Promise<ImageDeleteItem[]> {
    const id = await this.resolveImage(nameOrId);
    const items: ImageDeleteItem[] = [];
    await this.withLock(async () => {
      const repos = await this.repositories();
      const tags = Object.keys(repos.tags)
        .filter((t) => repos.tags[t] === id)
        .sort();
      let byTag: string | undefined;
      try {
        const ref = parseReference(nameOrId);
        const t = taggedName(ref);
        if (ref.digest === undefined && t !== undefined && repos.tags[t] === id) byTag = t;
      } catch (e) {
        if (!(e instanceof TscError)) throw e;
      }
      const inUse = options.isInUse?.(id) ?? false;
      const short = id.slice(7, 19);
      if (byTag !== undefined && (tags.length > 1 || inUse)) {
        if (inUse && tags.length === 1 && !options.force) {
          throw new EngineError(
            'TSC_ENGINE_CONFLICT',
            { kind: 'image', name: nameOrId },
            `conflict: unable to remove repository reference "${nameOrId}" (must force) - container is using its referenced image ${short}`,
          );
        }
        delete repos.tags[byTag];
        await this.writeRepositories(repos);
        items.push({ Untagged: familiarString(parseReference(byTag)) });
        return;
      }
      if (inUse && !options.force) {
        throw new EngineError(
          'TSC_ENGINE_CONFLICT',
          { kind: 'image', name: nameOrId },
          `conflict: unable to delete ${short} (must be forced) - image is being used by a container`,
        );
      }
      if (byTag === undefined && tags.length > 1 && !options.force) {
        throw new EngineError(
          'TSC_ENGINE_CONFLICT',
          { kind: 'image', name: nameOrId },
          `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
        );
      }
      for (const t of tags) {
        delete repos.tags[t];
        items.push({ Untagged: familiarString(parseReference(t)) });
      }
      await this.writeRepositories(repos);
      if (inUse) return;
      const record = await this.record(id);
      for (const d of record?.repoDigests ?? [])
        items.push({ Untagged: familiarString(parseReference(d)) });
      await fsp.rm(this.recordPath(id), { force: true });
      items.push({ Deleted: id });
    });
    await this.collectGarbage();
    return items;
  }

  /**
   * Removes dangling (untagged) images, or with `all` every image, that no container uses
   * (`docker image prune`). Sizes in bytes.
   */
  async prune(
    options: { all?: boolean; isInUse?: (imageId: string) => boolean } = {},
  ): Promise<{ ImagesDeleted: ImageDeleteItem[]; SpaceReclaimed: number }> {
    const deleted: ImageDeleteItem[] = [];
    let reclaimed = 0;
    for (const r of await this.records()) {
      if (options.isInUse?.(r.id)) continue;
      const tags = await this.tagsOf(r.id);
      if (tags.length > 0 && !options.all) continue;
      const items = await this.remove(r.id, { force: true, isInUse: options.isInUse });
      deleted.push(...items);
      reclaimed += r.size;
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Deletes blobs and layer snapshots no image record references (pinned pulls are kept). */
  async collectGarbage(): Promise<void> {
    await this.withLock(async () => {
      const keep = new Set<string>(this.pinned.keys());
      for (const r of await this.records()) {
        keep.add(r.id);
        keep.add(r.manifestDigest);
        for (const d of r.repoDigests) keep.add(d.slice(d.indexOf('@') + 1));
        for (const l of r.layers) keep.add(l.digest);
        for (const c of r.chainIds) keep.add(c);
      }
      for (const d of await this.content.list()) {
        if (keep.has(d)) continue;
        await this.content.delete(d);
      }
      for (const c of await this.snapshots.listLayers()) {
        if (!keep.has(c)) await this.snapshots.removeLayer(c);
      }
    });
  }

  /**
   * Prepares a container root filesystem over an image (see {@link SnapshotStore.prepare}).
   * @throws EngineError TSC_IMAGE_NOT_FOUND
   */
  async prepare(containerId: string, image: string): Promise<Mount[]> {
    const id = await this.resolveImage(image);
    const r = await this.record(id);
    if (!r) throw notFound(image);
    return this.snapshots.prepare(containerId, r.chainIds);
  }

  /** Removes a container's snapshot. */
  async removeSnapshot(containerId: string): Promise<void> {
    await this.snapshots.remove(containerId);
  }

  /**
   * Pushes a local image to a registry under `target` (`docker push`): layers, config, manifest.
   * Returns the manifest digest.
   * @throws TscError TSC_IMAGE_PULL on registry failures
   */
  async push(image: string, target?: string): Promise<string> {
    const id = await this.resolveImage(image);
    const r = await this.record(id);
    if (!r) throw notFound(image);
    const ref = parseReference(target ?? image);
    for (const l of r.layers)
      await this.registry.pushBlob(ref, l.digest, await this.content.read(l.digest));
    await this.registry.pushBlob(ref, id, await this.content.read(id));
    const manifest = await this.content.read(r.manifestDigest);
    await this.registry.pushManifest(
      ref,
      ref.tag ?? r.manifestDigest,
      r.manifestMediaType,
      manifest,
    );
    return r.manifestDigest;
  }

  /** The repository names of an image's tags (`docker.io/library/busybox:1.36`), sorted. */
  async tags(nameOrId: string): Promise<string[]> {
    return this.tagsOf(await this.resolveImage(nameOrId));
  }

  /** Name of the repository of a reference, for callers that display it. */
  static repository(reference: string): string {
    return repositoryName(parseReference(reference));
  }
}
