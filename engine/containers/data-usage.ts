/**
 * `GET /system/df` (API `SystemDataUsage`): image, layer, container and volume sizes computed from
 * the stores (layer sizes recorded at unpack, container upper dirs and volume dirs walked).
 * Reads only; changes nothing.
 */
import { join } from 'node:path';

import type Dockerode from 'dockerode';

import type { DataUsageType } from '../api/services.js';
import { readJsonIfExists } from '../images/content-store.js';
import type { ImageStore } from '../images/store.js';
import { dirSize, type VolumeInfo, type VolumeService } from '../volumes/index.js';
import type { ContainerManager } from './service.js';

/** What {@link dataUsage} reads. */
export interface DataUsageDeps {
  readonly containers: ContainerManager;
  readonly images: ImageStore;
  readonly volumes: VolumeService;
}

/** Docker's `DiskUsage` body; sections not asked for are null. Sizes in bytes. */
export interface DataUsage {
  LayersSize: number;
  Images: Array<Record<string, unknown>> | null;
  Containers: Array<Record<string, unknown>> | null;
  Volumes: VolumeInfo[] | null;
  BuildCache: unknown[] | null;
  BuilderSize: number;
}

/**
 * Computes the disk usage (moby `daemon/disk_usage.go` semantics): `LayersSize` = unique image
 * layers; per image `Size`, `SharedSize` (layers another image also uses) and `Containers` (how
 * many containers use it); per container `SizeRw` (its writable layer) and `SizeRootFs` (image +
 * writable layer); per volume `UsageData` {Size, RefCount}. No build cache (no builder): `[]`.
 */
export async function dataUsage(
  deps: DataUsageDeps,
  types: ReadonlySet<DataUsageType>,
  signal?: AbortSignal,
): Promise<DataUsage> {
  const want = (t: DataUsageType): boolean => types.size === 0 || types.has(t);
  const ctx = { apiVersion: '', signal: signal ?? new AbortController().signal };
  const containers = (await deps.containers.ContainerList(
    { all: true, size: false, filters: {} },
    ctx,
  )) as Array<Dockerode.ContainerInfo & { ImageID: string }>;
  const records = await deps.images.records();
  const sizeOfImage = new Map(records.map((r) => [r.id, r.size]));
  const out: DataUsage = {
    LayersSize: 0,
    Images: null,
    Containers: null,
    Volumes: null,
    BuildCache: null,
    BuilderSize: 0,
  };

  if (want('image')) {
    const layerSize = new Map<string, number>();
    const users = new Map<string, number>();
    for (const r of records) {
      for (const c of new Set(r.chainIds)) {
        users.set(c, (users.get(c) ?? 0) + 1);
        if (!layerSize.has(c)) {
          const s = await readJsonIfExists<{ size: number }>(
            join(deps.images.snapshots.layerDir(c), 'size.json'),
          );
          layerSize.set(c, s?.size ?? 0);
        }
      }
    }
    out.LayersSize = [...layerSize.values()].reduce((a, b) => a + b, 0);
    const byImage = new Map<string, number>();
    for (const c of containers) byImage.set(c.ImageID, (byImage.get(c.ImageID) ?? 0) + 1);
    const summaries = await deps.images.list();
    out.Images = summaries.map((s) => {
      const r = records.find((x) => x.id === s.Id);
      const shared = (r?.chainIds ?? [])
        .filter((c) => (users.get(c) ?? 0) > 1)
        .reduce((a, c) => a + (layerSize.get(c) ?? 0), 0);
      return { ...s, SharedSize: shared, Containers: byImage.get(s.Id) ?? 0 };
    });
  }

  if (want('container')) {
    const rows: Array<Record<string, unknown>> = [];
    for (const c of containers) {
      const rw = await dirSize(join(deps.images.snapshots.containerDir(c.Id), 'fs'));
      rows.push({ ...c, SizeRw: rw, SizeRootFs: (sizeOfImage.get(c.ImageID) ?? 0) + rw });
    }
    out.Containers = rows;
  }

  if (want('volume')) {
    const vols = await deps.volumes.list();
    out.Volumes = [];
    for (const v of vols) {
      out.Volumes.push({
        ...v,
        UsageData: {
          Size: await dirSize(v.Mountpoint),
          RefCount: deps.containers.volumeUsers(v.Name).length,
        },
      });
    }
  }

  if (want('build-cache')) out.BuildCache = [];
  return out;
}
