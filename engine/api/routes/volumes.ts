/**
 * Volume routes (API "Volume" section): list, create, inspect, remove, prune, over VolumeService.
 * Request parsing and response shapes only; the volume rules live in engine/volumes.
 */
import { EngineError } from '../../../base/errors.js';
import { parseFilters } from '../../events.js';
import type { VolumeCreateRequest, VolumeService } from '../../volumes/index.js';
import type { Router } from '../router.js';
import { compareApiVersions } from '../version.js';

const CREATE_KEYS = ['Name', 'Driver', 'DriverOpts', 'Labels', 'ClusterVolumeSpec'];

function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    typeof v !== 'object' ||
    Array.isArray(v) ||
    Object.values(v).some((x) => typeof x !== 'string')
  ) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'volume', name: field },
      `invalid JSON: ${field} must be a map of strings`,
    );
  }
  return v as Record<string, string>;
}

/** Checks a `POST /volumes/create` body; throws TSC_ENGINE_INVALID on wrong types or unknown fields. */
export function parseVolumeCreate(v: unknown): VolumeCreateRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'volume', name: '' },
      'invalid JSON: body must be an object',
    );
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!CREATE_KEYS.includes(k)) {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'volume', name: k },
        `invalid JSON: unknown field "${k}"`,
      );
    }
  }
  if (o.ClusterVolumeSpec !== undefined && o.ClusterVolumeSpec !== null) {
    throw new EngineError(
      'TSC_ENGINE_UNSUPPORTED',
      { kind: 'volume', name: 'ClusterVolumeSpec' },
      'cluster volumes are not supported',
    );
  }
  for (const k of ['Name', 'Driver'] as const) {
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'volume', name: k },
        `invalid JSON: ${k} must be a string`,
      );
    }
  }
  const out: VolumeCreateRequest = {};
  if (typeof o.Name === 'string') out.Name = o.Name;
  if (typeof o.Driver === 'string') out.Driver = o.Driver;
  const opts = stringMap(o.DriverOpts, 'DriverOpts');
  if (opts) out.DriverOpts = opts;
  const labels = stringMap(o.Labels, 'Labels');
  if (labels) out.Labels = labels;
  return out;
}

/** Registers the volume routes. */
export function registerVolumeRoutes(router: Router, volumes: VolumeService): void {
  router.add('GET', '/volumes', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    return { json: { Volumes: await volumes.list(filters), Warnings: [] } };
  });
  router.add('POST', '/volumes/create', async (ctx) => {
    const req = await ctx.json(parseVolumeCreate);
    return { status: 201, json: await volumes.create(req) };
  });
  router.add('POST', '/volumes/prune', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    // API < 1.42 pruned every unused volume; newer ones only anonymous volumes unless all=true.
    const allByDefault = compareApiVersions(ctx.apiVersion, '1.42') < 0;
    return { json: await volumes.prune(filters, allByDefault) };
  });
  router.add('GET', '/volumes/{name}', async (ctx) => ({
    json: await volumes.inspect(ctx.params.name ?? ''),
  }));
  router.add('DELETE', '/volumes/{name}', async (ctx) => {
    await volumes.remove(ctx.params.name ?? '', ctx.bool('force'));
    return { status: 204 };
  });
}
