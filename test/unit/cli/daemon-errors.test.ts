/**
 * Which error code the CLI shows for a daemon failure (docs/errors.md "Through the API"): the
 * orchestrator's mapping (compose/orchestrator/execute.ts, through executePlan) and the CLI's
 * (cli/client.ts asEngineError) agree on HTTP status and socket errors, including an engine that
 * goes away mid-request (`socket hang up`, ECONNRESET).
 */
import { asEngineError } from '../../../cli/client.js';
import { type ExecuteClient, executePlan } from '../../../compose/orchestrator/execute.js';
import { emptyState } from '../../../compose/orchestrator/observe.js';
import { reconcileUp } from '../../../compose/orchestrator/reconcile.js';

/** What dockerode rejects with for a daemon reply with this status and message. */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${status}) - ${message}`), {
    statusCode: status,
    json: { message },
  });
}

/** What node's http client rejects with on a socket error (`code` is the errno name). */
function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A client whose container create rejects with `e`; everything else succeeds. */
function failingCreate(e: Error): ExecuteClient {
  const ok = (): Promise<void> => Promise.resolve();
  return {
    pullImage: ok,
    createNetwork: ok,
    createVolume: ok,
    createContainer: () => Promise.reject(e),
    connectNetwork: ok,
    startContainer: ok,
    stopContainer: ok,
    removeContainer: ok,
    removeNetwork: ok,
    removeVolume: ok,
    removeImage: ok,
    inspectContainer: () => Promise.resolve({ Status: 'running', Running: true, ExitCode: 0 }),
  };
}

async function upError(e: Error): Promise<{ code?: string; message?: string }> {
  const plan = reconcileUp(
    { name: 'demo', services: { web: { image: 'nginx' } } },
    emptyState('demo', ['docker.io/library/nginx:latest']),
  );
  const res = await executePlan(failingCreate(e), plan.nodes);
  return { ...(res.error ? { code: res.error.code, message: res.error.message } : {}) };
}

const cases: readonly [string, string, () => Error][] = [
  ['404', 'TSC_ENGINE_NOT_FOUND', () => httpError(404, 'No such image: x:1')],
  ['409', 'TSC_ENGINE_CONFLICT', () => httpError(409, 'name in use')],
  // the engine's TSC_NETWORK (port already allocated) arrives as a 500
  ['500', 'TSC_ENGINE_STATE', () => httpError(500, 'bind 0.0.0.0:8080: address already in use')],
  ['400', 'TSC_ENGINE_STATE', () => httpError(400, 'invalid name')],
  [
    'ECONNREFUSED',
    'TSC_ENGINE_UNAVAILABLE',
    () => socketError('ECONNREFUSED', 'connect ECONNREFUSED'),
  ],
  ['ENOENT', 'TSC_ENGINE_UNAVAILABLE', () => socketError('ENOENT', 'connect ENOENT /x.sock')],
  ['ECONNRESET', 'TSC_ENGINE_UNAVAILABLE', () => socketError('ECONNRESET', 'socket hang up')],
];

describe('daemon failures through the API', () => {
  it.each(cases)('orchestrator: %s -> %s', async (_name, code, make) => {
    expect((await upError(make())).code).toBe(code);
  });

  it.each(cases)('CLI client: %s -> %s', (_name, code, make) => {
    expect(asEngineError(make())).toMatchObject({ code });
  });

  it('names the operation and keeps the socket message for an engine killed mid-request', async () => {
    expect(await upError(socketError('ECONNRESET', 'socket hang up'))).toEqual({
      code: 'TSC_ENGINE_UNAVAILABLE',
      message: 'create container demo-web-1: socket hang up',
    });
    expect(asEngineError(socketError('ECONNRESET', 'socket hang up'))).toMatchObject({
      message: 'connect to the engine: socket hang up',
    });
  });

  it('a pull that fails by status is TSC_IMAGE_PULL, by a dropped socket TSC_ENGINE_UNAVAILABLE', async () => {
    const plan = reconcileUp(
      { name: 'demo', services: { web: { image: 'nginx' } } },
      emptyState('demo'),
    );
    const pulling = (e: Error): ExecuteClient => ({
      ...failingCreate(e),
      pullImage: () => Promise.reject(e),
    });
    const byStatus = await executePlan(pulling(httpError(500, 'manifest unknown')), plan.nodes);
    expect(byStatus.error?.code).toBe('TSC_IMAGE_PULL');
    const bySocket = await executePlan(
      pulling(socketError('ECONNRESET', 'socket hang up')),
      plan.nodes,
    );
    expect(bySocket.error?.code).toBe('TSC_ENGINE_UNAVAILABLE');
  });
});
