/**
 * Image routes (API "Image" section): list, pull (`POST /images/create`, streamed JSON progress),
 * import (`fromSrc=-`), inspect, history, tag, remove, prune, load, get, over an ImageService. Parsing and status codes
 * only; the image rules live in engine/images.
 */
import type { Writable } from 'node:stream';

import { EngineError } from '../../../base/errors.js';
import { parseFilters } from '../../events.js';
import type { ApiContext, Router } from '../router.js';
import type { ImageImportQuery, ImageService, OperationContext } from '../services.js';

function op(ctx: ApiContext): OperationContext {
  return { apiVersion: ctx.apiVersion, signal: ctx.signal };
}

/** Registers the image routes. */
export function registerImageRoutes(router: Router, svc: ImageService): void {
  router.add('GET', '/images/json', async (ctx) => ({
    json: await svc.ImageList(
      {
        all: ctx.bool('all'),
        digests: ctx.bool('digests'),
        filters: parseFilters(ctx.query.get('filters')),
      },
      op(ctx),
    ),
  }));
  router.add('POST', '/images/create', async (ctx) => {
    const fromImage = ctx.query.get('fromImage') ?? '';
    if (fromImage === '' && (ctx.query.get('fromSrc') ?? '') === '')
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'query', name: 'fromImage' },
        'fromImage or fromSrc is required',
      );
    const fromSrc = ctx.query.get('fromSrc') ?? '';
    if (fromImage === '') return importFrom(ctx, fromSrc);
    const q: { fromImage: string; tag?: string; platform?: string; auth?: string } = { fromImage };
    const tag = ctx.query.get('tag');
    if (tag) q.tag = tag;
    const platform = ctx.query.get('platform');
    if (platform) q.platform = platform;
    const auth = ctx.req.headers['x-registry-auth'];
    if (typeof auth === 'string' && auth !== '') q.auth = auth;
    // the 200 header goes once the name is valid: an invalid one answers 400, as dockerd
    let out: Writable | undefined;
    const open = (): Writable => (out ??= ctx.stream(200, 'application/json'));
    try {
      await svc.ImageCreate(q, open, op(ctx));
    } finally {
      out?.end();
    }
    return undefined;
  });
  /** `docker import`: fromSrc `-` is the request body; a URL would be fetched by dockerd. */
  const importFrom = async (ctx: ApiContext, fromSrc: string): Promise<undefined> => {
    if (fromSrc !== '-')
      throw new EngineError(
        'TSC_ENGINE_UNSUPPORTED',
        { kind: 'image', name: fromSrc },
        'image import from a URL is not supported by the tscompose engine (send the tar as the body, fromSrc=-)',
      );
    const q: ImageImportQuery = { changes: ctx.query.getAll('changes') };
    for (const k of ['repo', 'tag', 'message', 'platform'] as const) {
      const v = ctx.query.get(k);
      if (v) q[k] = v;
    }
    const out = ctx.stream(200, 'application/json');
    try {
      await svc.ImageImport(ctx.req, q, out, op(ctx));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      out.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
    } finally {
      out.end();
    }
    return undefined;
  };
  router.add('GET', '/images/{name*}/json', async (ctx) => ({
    json: await svc.ImageInspect(ctx.params.name ?? '', op(ctx)),
  }));
  router.add('GET', '/images/{name*}/history', async (ctx) => ({
    json: await svc.ImageHistory(ctx.params.name ?? '', op(ctx)),
  }));
  router.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo') ?? '';
    if (repo === '')
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'query', name: 'repo' },
        'repository name (repo) is required',
      );
    await svc.ImageTag(ctx.params.name ?? '', repo, ctx.query.get('tag') || undefined, op(ctx));
    return { status: 201, text: '' };
  });
  router.add('DELETE', '/images/{name*}', async (ctx) => ({
    json: await svc.ImageDelete(
      ctx.params.name ?? '',
      { force: ctx.bool('force'), noprune: ctx.bool('noprune') },
      op(ctx),
    ),
  }));
  router.add('POST', '/images/prune', async (ctx) => ({
    json: await svc.ImagePrune(parseFilters(ctx.query.get('filters')), op(ctx)),
  }));
  router.add('POST', '/images/load', async (ctx) => {
    const out = ctx.stream(200, 'application/json');
    try {
      await svc.ImageLoad(ctx.req, ctx.bool('quiet'), out, op(ctx));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      out.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
    } finally {
      out.end();
    }
    return undefined;
  });
  const save = async (ctx: ApiContext, names: string[]): Promise<undefined> => {
    if (names.length === 0)
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'query', name: 'names' },
        'no image names given (names)',
      );
    await svc.ImageGet(names, () => ctx.stream(200, 'application/x-tar'), op(ctx));
    return undefined;
  };
  router.add('GET', '/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  router.add('GET', '/images/{name*}/get', (ctx) => save(ctx, [ctx.params.name ?? '']));
}
