/**
 * Network routes (API "Network" section): list, inspect, create, remove, connect, disconnect,
 * prune, over a NetworkService. Parsing and status codes only; network rules live in
 * engine/networks.
 */
import { EngineError } from '../../../base/errors.js';
import { parseFilters } from '../../events.js';
import type { ApiContext, Router } from '../router.js';
import type { NetworkService, OperationContext } from '../services.js';

function op(ctx: ApiContext): OperationContext {
  return { apiVersion: ctx.apiVersion, signal: ctx.signal };
}

function objectBody(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'request', name: 'body' },
      'invalid JSON: body must be an object',
    );
  }
  return v as Record<string, unknown>;
}

function containerOf(body: Record<string, unknown>): string {
  const c = body.Container;
  if (typeof c !== 'string' || c === '') {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'request', name: 'Container' },
      'invalid JSON: Container is required',
    );
  }
  return c;
}

/** Registers the network routes. */
export function registerNetworkRoutes(router: Router, svc: NetworkService): void {
  router.add('GET', '/networks', async (ctx) => ({
    json: await svc.NetworkList(parseFilters(ctx.query.get('filters')), op(ctx)),
  }));
  router.add('GET', '/networks/{id}', async (ctx) => {
    const q: { verbose: boolean; scope?: string } = { verbose: ctx.bool('verbose') };
    const scope = ctx.query.get('scope');
    if (scope) q.scope = scope;
    return { json: await svc.NetworkInspect(ctx.params.id ?? '', q, op(ctx)) };
  });
  router.add('POST', '/networks/create', async (ctx) => {
    const body = await ctx.json(objectBody);
    return {
      status: 201,
      json: await svc.NetworkCreate(
        body as unknown as Parameters<NetworkService['NetworkCreate']>[0],
        op(ctx),
      ),
    };
  });
  router.add('DELETE', '/networks/{id}', async (ctx) => {
    await svc.NetworkDelete(ctx.params.id ?? '', op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = await ctx.json(objectBody);
    const req: { Container: string; EndpointConfig?: Record<string, unknown> } = {
      Container: containerOf(body),
    };
    if (body.EndpointConfig && typeof body.EndpointConfig === 'object')
      req.EndpointConfig = body.EndpointConfig as Record<string, unknown>;
    await svc.NetworkConnect(ctx.params.id ?? '', req, op(ctx));
    return { status: 200, text: '' };
  });
  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = await ctx.json(objectBody);
    await svc.NetworkDisconnect(
      ctx.params.id ?? '',
      { Container: containerOf(body), Force: body.Force === true },
      op(ctx),
    );
    return { status: 200, text: '' };
  });
  router.add('POST', '/networks/prune', async (ctx) => ({
    json: await svc.NetworkPrune(parseFilters(ctx.query.get('filters')), op(ctx)),
  }));
}
