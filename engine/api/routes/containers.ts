/**
 * Container and exec routes (API "Container" and "Exec" sections): request parsing, status codes
 * and streaming/hijack plumbing over a ContainerService. No container rules here; those live in
 * engine/containers.
 */
import { EngineError } from '../../../base/errors.js';
import { parseFilters } from '../../events.js';
import type { ApiContext, Router } from '../router.js';
import type {
  ContainerCreateBody,
  ContainerPathStat,
  ContainerService,
  OperationContext,
} from '../services.js';
import { compareApiVersions } from '../version.js';

/** Extra hooks a container service can offer the routes (TTY detection for stream framing). */
export interface ContainerRouteHooks {
  /** True when the container runs with a TTY (raw stream instead of multiplexed). */
  isTty?(id: string): boolean;
  /** True when the exec runs with a TTY. */
  execTty?(id: string): boolean;
}

/** Top-level keys of a create body (Config + HostConfig + NetworkingConfig); others are dropped. */
const CREATE_KEYS = new Set([
  'Hostname',
  'Domainname',
  'User',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'ExposedPorts',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Env',
  'Cmd',
  'Healthcheck',
  'ArgsEscaped',
  'Image',
  'Volumes',
  'WorkingDir',
  'Entrypoint',
  'NetworkDisabled',
  'MacAddress',
  'OnBuild',
  'Labels',
  'StopSignal',
  'StopTimeout',
  'Shell',
  'HostConfig',
  'NetworkingConfig',
  'Platform',
  // dockerode repeats its query options in the body
  'name',
  'platform',
]);

function invalid(name: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_INVALID', { kind: 'request', name }, message);
}

/** Checks a create body: an object, known keys, string arrays where Docker has them. */
export function parseCreateBody(v: unknown): ContainerCreateBody {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid('body', 'invalid JSON: body must be an object');
  // dockerd decodes without DisallowUnknownFields: unknown fields are ignored, not refused
  const o: Record<string, unknown> = Object.fromEntries(
    Object.entries(v as Record<string, unknown>).filter(([k]) => CREATE_KEYS.has(k)),
  );
  for (const k of ['Env', 'Cmd', 'Entrypoint']) {
    const x = o[k];
    if (x === undefined || x === null || typeof x === 'string') continue;
    if (!Array.isArray(x) || x.some((e) => typeof e !== 'string'))
      throw invalid(k, `invalid JSON: ${k} must be an array of strings`);
  }
  if (o.Image !== undefined && typeof o.Image !== 'string')
    throw invalid('Image', 'invalid JSON: Image must be a string');
  for (const k of ['HostConfig', 'NetworkingConfig', 'Labels', 'ExposedPorts', 'Volumes']) {
    const x = o[k];
    if (x !== undefined && x !== null && (typeof x !== 'object' || Array.isArray(x)))
      throw invalid(k, `invalid JSON: ${k} must be an object`);
  }
  const body: Record<string, unknown> = { ...o };
  delete body.name;
  delete body.platform;
  return body;
}

function op(ctx: ApiContext): OperationContext {
  return { apiVersion: ctx.apiVersion, signal: ctx.signal };
}

function id(ctx: ApiContext): string {
  return ctx.params.id ?? '';
}

/** `?t=` / `?timeout=` of stop and restart (seconds). */
function stopQuery(ctx: ApiContext): { signal?: string; t?: number } {
  const q: { signal?: string; t?: number } = {};
  const t = ctx.int('t') ?? ctx.int('timeout');
  if (t !== undefined) q.t = t;
  const s = ctx.query.get('signal');
  if (s) q.signal = s;
  return q;
}

/** Seconds of a `since`/`until` parameter (unix seconds, fractional, or RFC3339). */
function timeParam(ctx: ApiContext, name: string): number {
  const v = ctx.query.get(name);
  if (v === null || v === '') return 0;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(name, `invalid value for ${name}: ${JSON.stringify(v)}`);
  return t / 1000;
}

/** Registers the container and exec routes. */
export function registerContainerRoutes(
  router: Router,
  svc: ContainerService,
  hooks: ContainerRouteHooks = {},
): void {
  router.add('GET', '/containers/json', async (ctx) => {
    const q: { all: boolean; limit?: number; size: boolean; filters: Record<string, string[]> } = {
      all: ctx.bool('all'),
      size: ctx.bool('size'),
      filters: parseFilters(ctx.query.get('filters')),
    };
    const limit = ctx.int('limit');
    if (limit !== undefined) q.limit = limit;
    return { json: await svc.ContainerList(q, op(ctx)) };
  });
  router.add('POST', '/containers/create', async (ctx) => {
    const body = await ctx.json(parseCreateBody);
    const name = ctx.query.get('name') ?? undefined;
    const platform = ctx.query.get('platform') ?? undefined;
    return { status: 201, json: await svc.ContainerCreate(name, platform, body, op(ctx)) };
  });
  router.add('GET', '/containers/{id}/json', async (ctx) => ({
    json: await svc.ContainerInspect(id(ctx), ctx.bool('size'), op(ctx)),
  }));
  router.add('POST', '/containers/{id}/start', async (ctx) => {
    const r = await svc.ContainerStart(id(ctx), op(ctx));
    return { status: r === 'started' ? 204 : 304 };
  });
  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    const r = await svc.ContainerStop(id(ctx), stopQuery(ctx), op(ctx));
    return { status: r === 'stopped' ? 204 : 304 };
  });
  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await svc.ContainerRestart(id(ctx), stopQuery(ctx), op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await svc.ContainerKill(id(ctx), ctx.query.get('signal') ?? 'SIGKILL', op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const cond = ctx.query.get('condition') || 'not-running';
    if (cond !== 'not-running' && cond !== 'next-exit' && cond !== 'removed')
      throw invalid('condition', `invalid condition: "${cond}"`);
    // fail early on an unknown container, then stream the answer once it is known
    await svc.ContainerInspect(id(ctx), false, op(ctx));
    const out = ctx.stream(200, 'application/json');
    try {
      const r = await svc.ContainerWait(id(ctx), cond, op(ctx));
      out.end(`${JSON.stringify({ ...r, Error: r.Error ?? null })}\n`);
    } catch (e) {
      out.end(
        `${JSON.stringify({ StatusCode: -1, Error: { Message: e instanceof Error ? e.message : String(e) } })}\n`,
      );
    }
    return undefined;
  });
  router.add('DELETE', '/containers/{id}', async (ctx) => {
    await svc.ContainerDelete(
      id(ctx),
      { force: ctx.bool('force'), v: ctx.bool('v'), link: ctx.bool('link') },
      op(ctx),
    );
    return { status: 204 };
  });
  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const stdout = ctx.bool('stdout');
    const stderr = ctx.bool('stderr');
    if (!stdout && !stderr) throw invalid('stdout', 'you must choose at least one stream');
    const tailRaw = ctx.query.get('tail') ?? 'all';
    const tail = tailRaw === 'all' || tailRaw === '' ? 'all' : Number.parseInt(tailRaw, 10);
    const query = {
      follow: ctx.bool('follow'),
      stdout,
      stderr,
      since: timeParam(ctx, 'since'),
      until: timeParam(ctx, 'until'),
      timestamps: ctx.bool('timestamps'),
      tail: Number.isNaN(tail) ? ('all' as const) : tail,
    };
    await svc.ContainerInspect(id(ctx), false, op(ctx));
    const tty = hooks.isTty?.(id(ctx)) ?? false;
    const multiplexed = !tty && compareApiVersions(ctx.apiVersion, '1.42') >= 0;
    const out = ctx.stream(
      200,
      multiplexed
        ? 'application/vnd.docker.multiplexed-stream'
        : 'application/vnd.docker.raw-stream',
    );
    try {
      await svc.ContainerLogs(id(ctx), query, out, op(ctx));
    } finally {
      out.end();
    }
    return undefined;
  });
  router.add('POST', '/containers/{id}/attach', async (ctx) => {
    await svc.ContainerInspect(id(ctx), false, op(ctx));
    const tty = hooks.isTty?.(id(ctx)) ?? false;
    const conn = ctx.hijack(!tty);
    await svc.ContainerAttach(
      id(ctx),
      {
        logs: ctx.bool('logs'),
        stream: ctx.bool('stream'),
        detachKeys: ctx.query.get('detachKeys') ?? '',
      },
      {
        conn,
        stdin: ctx.bool('stdin'),
        stdout: ctx.bool('stdout'),
        stderr: ctx.bool('stderr'),
        multiplexed: !tty,
      },
      op(ctx),
    );
    return undefined;
  });
  router.add('GET', '/containers/{id}/top', async (ctx) => ({
    json: await svc.ContainerTop(id(ctx), ctx.query.get('ps_args') ?? '', op(ctx)),
  }));
  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    await svc.ContainerInspect(id(ctx), false, op(ctx));
    const out = ctx.stream(200, 'application/json');
    try {
      await svc.ContainerStats(
        id(ctx),
        { stream: ctx.bool('stream', true), oneShot: ctx.bool('one-shot') },
        out,
        op(ctx),
      );
    } finally {
      out.end();
    }
    return undefined;
  });
  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await svc.ContainerPause(id(ctx), op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await svc.ContainerUnpause(id(ctx), op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name') ?? '';
    if (name === '') throw invalid('name', 'Neither old nor new names may be empty');
    await svc.ContainerRename(id(ctx), name, op(ctx));
    return { status: 204 };
  });
  router.add('POST', '/containers/{id}/update', async (ctx) => ({
    json: await svc.ContainerUpdate(id(ctx), await ctx.json<Record<string, unknown>>(), op(ctx)),
  }));
  router.add('POST', '/containers/{id}/resize', async (ctx) => {
    await svc.ContainerResize(id(ctx), ctx.int('h', 0) ?? 0, ctx.int('w', 0) ?? 0, op(ctx));
    return { status: 200, text: '' };
  });
  router.add('POST', '/containers/prune', async (ctx) => ({
    json: await svc.ContainerPrune(parseFilters(ctx.query.get('filters')), op(ctx)),
  }));
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>();
    return { status: 201, json: await svc.ExecCreate(id(ctx), body, op(ctx)) };
  });
  router.add('POST', '/exec/{id}/start', async (ctx) => {
    const body = await ctx.json<{
      Detach?: boolean;
      Tty?: boolean;
      ConsoleSize?: [number, number];
    }>();
    await svc.ExecInspect(id(ctx), op(ctx));
    if (body.Detach) {
      await svc.ExecStart(id(ctx), body, undefined, op(ctx));
      return { status: 200, text: '' };
    }
    const tty = body.Tty ?? hooks.execTty?.(id(ctx)) ?? false;
    const conn = ctx.hijack(!tty);
    await svc.ExecStart(
      id(ctx),
      body,
      { conn, stdin: true, stdout: true, stderr: true, multiplexed: !tty },
      op(ctx),
    );
    return undefined;
  });
  router.add('POST', '/exec/{id}/resize', async (ctx) => {
    await svc.ExecResize(id(ctx), ctx.int('h', 0) ?? 0, ctx.int('w', 0) ?? 0, op(ctx));
    return { status: 200, text: '' };
  });
  router.add('GET', '/exec/{id}/json', async (ctx) => ({
    json: await svc.ExecInspect(id(ctx), op(ctx)),
  }));

  // archive: the path's stat travels base64-encoded in X-Docker-Container-Path-Stat
  const statHeader = (stat: ContainerPathStat): Record<string, string> => ({
    'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(stat)).toString('base64'),
  });
  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const stat = await svc.ContainerArchiveInfo(id(ctx), ctx.query.get('path') ?? '', op(ctx));
    return { status: 200, text: '', headers: statHeader(stat) };
  });
  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    await svc.ContainerArchive(
      id(ctx),
      ctx.query.get('path') ?? '',
      (stat) => ctx.stream(200, 'application/x-tar', statHeader(stat)),
      op(ctx),
    );
    return undefined;
  });
  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    await svc.PutContainerArchive(
      id(ctx),
      ctx.query.get('path') ?? '',
      {
        noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'),
        copyUIDGID: ctx.bool('copyUIDGID'),
      },
      ctx.req,
      op(ctx),
    );
    return { status: 200, text: '' };
  });
}
