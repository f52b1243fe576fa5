/**
 * The ImageService of the Engine API over engine/images' ImageStore: list, pull with Docker's JSON
 * progress stream, inspect, history, tag, remove, prune, load (docker save archives). Shapes only;
 * the image rules live in engine/images. Operations the store lacks answer 501.
 */
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

import type Dockerode from 'dockerode';

import { EngineError } from '../../base/errors.js';
import type {
  ApiFilters,
  ImageImportQuery,
  ImageService,
  OperationContext,
} from '../api/services.js';
import { writeJsonLine } from '../api/stream.js';
import type { EventBus } from '../events.js';
import { MAX_MANIFEST_SIZE, type ImageConfig } from '../images/oci.js';
import { familiarName, familiarString, parseReference } from '../images/reference.js';
import { importImage, loadImages, saveImages } from '../images/archive.js';
import type { ImageStore } from '../images/store.js';

/** Options of {@link StoreImageService}. */
export interface ImageApiDeps {
  readonly store: ImageStore;
  readonly events: EventBus;
  /** True when a container uses the image id. */
  readonly isInUse: (imageId: string) => boolean;
}

function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The Engine API image operations over an ImageStore. */
export class StoreImageService implements ImageService {
  constructor(private readonly deps: ImageApiDeps) {}

  async ImageList(
    q: { all: boolean; digests: boolean; filters: ApiFilters },
    _ctx: OperationContext,
  ): Promise<Dockerode.ImageInfo[]> {
    let list = await this.deps.store.list({ isInUse: this.deps.isInUse });
    const ref = q.filters.reference;
    if (ref && ref.length > 0) {
      list = list.filter((i) =>
        i.RepoTags.some((t) =>
          ref.some(
            (r) =>
              t === r ||
              t.startsWith(`${r}:`) ||
              (r.includes('*') && new RegExp(`^${r.replace(/\*/g, '.*')}$`).test(t)),
          ),
        ),
      );
    }
    const dangling = q.filters.dangling?.[0];
    if (dangling !== undefined)
      list = list.filter((i) => (i.RepoTags.length === 0) === (dangling === 'true'));
    const labels = q.filters.label;
    if (labels) {
      list = list.filter((i) =>
        labels.every((l) => {
          const k = l.split('=')[0] ?? '';
          return l.includes('=') ? i.Labels[k] === l.slice(k.length + 1) : k in i.Labels;
        }),
      );
    }
    return list;
  }

  async ImageCreate(
    q: { fromImage: string; tag?: string; platform?: string; auth?: string },
    open: () => Writable,
    _ctx: OperationContext,
  ): Promise<void> {
    if (q.fromImage === '')
      throw new EngineError(
        'TSC_ENGINE_UNSUPPORTED',
        { kind: 'image', name: '' },
        'image import (fromSrc) is not implemented by the tscompose engine yet',
      );
    let name = q.fromImage;
    if (q.tag) name = q.tag.startsWith('sha256:') ? `${name}@${q.tag}` : `${name}:${q.tag}`;
    const ref = parseReference(name);
    const out = open();
    const shown = ref.tag ?? ref.digest ?? 'latest';
    await writeJsonLine(out, { status: `Pulling from ${familiarName(ref)}`, id: shown });
    const seen = new Set<string>();
    try {
      const id = await this.deps.store.pull(name, {
        ...(q.platform ? { platform: q.platform } : {}),
        onProgress: (p) => {
          const layer = shortId(p.digest);
          if (p.status === 'exists') {
            void writeJsonLine(out, { status: 'Already exists', progressDetail: {}, id: layer });
          } else if (p.status === 'done') {
            void writeJsonLine(out, { status: 'Download complete', progressDetail: {}, id: layer });
          } else if (p.status === 'downloading') {
            if (!seen.has(layer)) {
              seen.add(layer);
              void writeJsonLine(out, {
                status: 'Pulling fs layer',
                progressDetail: {},
                id: layer,
              });
            }
            void writeJsonLine(out, {
              status: 'Downloading',
              progressDetail: { current: p.current, total: p.total },
              id: layer,
            });
          }
        },
      });
      const record = await this.deps.store.record(id);
      if (record) await writeJsonLine(out, { status: `Digest: ${record.manifestDigest}` });
      await writeJsonLine(out, {
        status: `Status: Downloaded newer image for ${familiarString(ref)}`,
      });
      this.deps.events.publish({
        Type: 'image',
        Action: 'pull',
        ID: familiarString(ref),
        Attributes: { name: familiarString(ref) },
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await writeJsonLine(out, { errorDetail: { message }, error: message });
    }
  }

  async ImageImport(
    tar: Readable,
    q: ImageImportQuery,
    out: Writable,
    _ctx: OperationContext,
  ): Promise<void> {
    let reference: string | undefined;
    if (q.repo) {
      // docker import's "repo:tag" arrives as repo + tag; a tag alone makes no name
      reference = q.tag ? `${q.repo}:${q.tag}` : q.repo;
      parseReference(reference);
    }
    const id = await importImage(this.deps.store, tar, {
      reference,
      changes: q.changes,
      message: q.message,
      platform: q.platform,
    });
    await writeJsonLine(out, { status: id });
    this.deps.events.publish({
      Type: 'image',
      Action: 'import',
      ID: id,
      ...(reference ? { Attributes: { name: familiarString(parseReference(reference)) } } : {}),
    });
  }

  async ImageInspect(name: string, _ctx: OperationContext): Promise<Dockerode.ImageInspectInfo> {
    return (await this.deps.store.inspect(name)) as unknown as Dockerode.ImageInspectInfo;
  }

  async ImageHistory(name: string, _ctx: OperationContext) {
    const id = await this.deps.store.resolveImage(name);
    const config = await this.deps.store.content.readJson<ImageConfig>(id, MAX_MANIFEST_SIZE);
    const tags = (await this.deps.store.tags(id)).map((t) => familiarString(parseReference(t)));
    const history = [...(config.history ?? [])].reverse();
    return history.map((h, i) => ({
      Id: i === 0 ? id : '<missing>',
      Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      CreatedBy: h.created_by ?? '',
      Tags: i === 0 ? tags : null,
      Size: 0,
      Comment: h.comment ?? '',
    }));
  }

  async ImageTag(
    name: string,
    repo: string,
    tag: string | undefined,
    _ctx: OperationContext,
  ): Promise<void> {
    const target = tag ? `${repo}:${tag}` : repo;
    await this.deps.store.tag(name, target);
    this.deps.events.publish({
      Type: 'image',
      Action: 'tag',
      ID: await this.deps.store.resolveImage(target),
      Attributes: { name: target },
    });
  }

  async ImageDelete(
    name: string,
    q: { force: boolean; noprune: boolean },
    _ctx: OperationContext,
  ): Promise<Dockerode.ImageRemoveInfo[]> {
    const items = await this.deps.store.remove(name, {
      force: q.force,
      isInUse: this.deps.isInUse,
    });
    for (const it of items) {
      if ('Deleted' in it)
        this.deps.events.publish({ Type: 'image', Action: 'delete', ID: it.Deleted });
      else this.deps.events.publish({ Type: 'image', Action: 'untag', ID: it.Untagged });
    }
    return items as unknown as Dockerode.ImageRemoveInfo[];
  }

  async ImagePrune(
    filters: ApiFilters,
    _ctx: OperationContext,
  ): Promise<Dockerode.PruneImagesInfo> {
    const all = filters.dangling?.[0] === 'false';
    const r = await this.deps.store.prune({ all, isInUse: this.deps.isInUse });
    return r as unknown as Dockerode.PruneImagesInfo;
  }

  /**
   * `docker load`: a docker-archive (`manifest.json`; layers plain, gzip or zstd) or an OCI layout
   * tar, through engine/images' {@link loadImages} (every blob verified). Progress lines as
   * dockerd's: `Loaded image: name:tag` or `Loaded image ID: sha256:...`.
   */
  async ImageLoad(
    tar: Readable,
    _quiet: boolean,
    out: Writable,
    _ctx: OperationContext,
  ): Promise<void> {
    // dockerd's `quiet` only drops progress bars (we send none): "Loaded image" lines always go
    for (const { id, tags } of await loadImages(this.deps.store, tar)) {
      for (const t of tags) await writeJsonLine(out, { stream: `Loaded image: ${t}\n` });
      if (tags.length === 0) await writeJsonLine(out, { stream: `Loaded image ID: ${id}\n` });
      this.deps.events.publish({ Type: 'image', Action: 'load', ID: id });
    }
  }

  /**
   * `docker save` (`GET /images/{name}/get`, `GET /images/get?names=`): engine/images'
   * {@link saveImages} (OCI layout plus docker-archive `manifest.json` and `repositories`).
   * @throws EngineError TSC_IMAGE_NOT_FOUND (404 `No such image: x`) before any byte is sent
   */
  async ImageGet(
    names: readonly string[],
    open: () => Writable,
    _ctx: OperationContext,
  ): Promise<void> {
    for (const n of names) await this.deps.store.resolveImage(n);
    await saveImages(this.deps.store, names, open());
    for (const n of names) {
      const id = await this.deps.store.resolveImage(n);
      this.deps.events.publish({ Type: 'image', Action: 'save', ID: id });
    }
  }

  async count(): Promise<number> {
    return (await this.deps.store.records()).length;
  }
}

/** sha256 digest of bytes (exported for tests). */
export function digestOf(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}
