/**
 * Execute: walks a plan DAG with bounded concurrency, one Engine API call per node (create-container
 * also connects its extra networks), emitting progress events. Carries no decision logic (that is
 * reconcile.ts); depends on a narrow client interface so tests use a fake and the CLI wraps dockerode.
 */
import { setTimeout as delay } from 'node:timers/promises';

import type Dockerode from 'dockerode';
import type {
  ContainerCreateOptions,
  ContainerInspectInfo,
  EndpointSettings,
  NetworkCreateOptions,
  VolumeCreateOptions,
} from 'dockerode';

import { EngineError, type ErrorCode, TscError, isTscError } from '../../base/errors.js';

import type { ContainerRef, DependencyCondition, Op, PlanNode } from './plan.js';
import type { ProgressEvent, ProgressKind, ProgressStatus } from './progress.js';

/** The container state fields waits read (`GET /containers/{id}/json` `.State`). */
export type ContainerState = Pick<
  ContainerInspectInfo['State'],
  'Status' | 'Running' | 'ExitCode' | 'Health'
>;

/** The Engine API calls the executor makes; {@link dockerodeClient} adapts a dockerode instance. */
export interface ExecuteClient {
  /**
   * `POST /images/create?fromImage=` until the pull stream ends; `signal` (Ctrl-C) aborts the
   * request and rejects.
   */
  pullImage(ref: string, platform?: string, signal?: AbortSignal): Promise<void>;
  /** `POST /networks/create`. */
  createNetwork(body: NetworkCreateOptions): Promise<void>;
  /** `POST /volumes/create`. */
  createVolume(body: VolumeCreateOptions): Promise<void>;
  /** `POST /containers/create?name=`; resolves the new id. */
  createContainer(body: ContainerCreateOptions): Promise<string>;
  /** `POST /networks/{network}/connect`. */
  connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void>;
  /** `POST /containers/{id}/start`. */
  startContainer(id: string): Promise<void>;
  /** `POST /containers/{id}/stop?t=` (seconds; undefined = the container's StopTimeout). */
  stopContainer(id: string, timeoutS?: number): Promise<void>;
  /** `DELETE /containers/{id}?v=`. */
  removeContainer(id: string, volumes: boolean): Promise<void>;
  /** `GET /containers/{id}/json`, the State part. */
  inspectContainer(id: string): Promise<ContainerState>;
  /** `DELETE /networks/{id}`. */
  removeNetwork(name: string): Promise<void>;
  /** `DELETE /volumes/{name}`. */
  removeVolume(name: string): Promise<void>;
  /** `DELETE /images/{name}`. */
  removeImage(ref: string): Promise<void>;
}

/** Time seam for dependency waits (tests pass a fake that advances instantly). */
export interface Clock {
  /** Milliseconds, monotonic enough for timeouts. */
  now(): number;
  /** Resolves after `ms`; may reject early when `signal` aborts (callers race it anyway). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock (its sleep ends, rejecting, when the signal aborts). */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? {} : { signal }),
};

/** Executor options. */
export interface ExecuteOptions {
  /** Nodes running at once (default 4; the CLI passes `--parallel`, unlimited unless set). */
  readonly concurrency?: number | undefined;
  /** Receives every progress event, in emission order. */
  readonly onProgress?: ((e: ProgressEvent) => void) | undefined;
  /** Clock seam (default {@link systemClock}). */
  readonly clock?: Clock | undefined;
  /** Interval between inspect calls while waiting on a dependency, ms (default 500). */
  readonly pollMs?: number | undefined;
  /** Give up waiting on one dependency after this many ms (default: wait forever, like compose). */
  readonly waitTimeoutMs?: number | undefined;
  /**
   * Ctrl-C: when aborted, no new node is launched, running dependency waits and pulls are
   * cancelled (their nodes end `skipped`), other running API calls finish.
   */
  readonly signal?: AbortSignal | undefined;
  /** Receives warnings (an optional dependency that failed). */
  readonly onWarning?: ((message: string) => void) | undefined;
}

/** How each node ended. */
export type NodeOutcome = 'done' | 'failed' | 'skipped';

/** The result of a run: every node's outcome, and the first error (undefined when all done). */
export interface ExecuteResult {
  readonly outcomes: ReadonlyMap<number, NodeOutcome>;
  readonly error: TscError | undefined;
}

/** The resource an op acts on, for progress events. */
function subject(op: Op): { kind: ProgressKind; resource: string } {
  switch (op.kind) {
    case 'pull-image':
    case 'remove-image':
      return { kind: 'Image', resource: op.ref };
    case 'create-network':
    case 'remove-network':
      return { kind: 'Network', resource: op.name };
    case 'create-volume':
    case 'remove-volume':
      return { kind: 'Volume', resource: op.name };
    case 'create-container':
    case 'start-container':
    case 'stop-container':
    case 'remove-container':
      return { kind: 'Container', resource: op.container.name };
    case 'wait-service':
      return { kind: 'Service', resource: op.service };
  }
}

/**
 * The resources a node's progress events name: a wait-service node reports on each container it
 * waits for (`Container demo-db-1  Waiting` / `Healthy`, like docker compose), others on their one
 * resource.
 */
function subjects(op: Op): { kind: ProgressKind; resource: string }[] {
  if (op.kind === 'wait-service' && op.containers.length > 0) {
    return op.containers.map((resource) => ({ kind: 'Container' as const, resource }));
  }
  return [subject(op)];
}

/** [status while running, status when done] per op kind. */
const STATUS: Record<Op['kind'], [ProgressStatus, ProgressStatus]> = {
  'pull-image': ['Pulling', 'Pulled'],
  'create-network': ['Creating', 'Created'],
  'create-volume': ['Creating', 'Created'],
  'create-container': ['Creating', 'Created'],
  'start-container': ['Starting', 'Started'],
  'stop-container': ['Stopping', 'Stopped'],
  'remove-container': ['Removing', 'Removed'],
  'wait-service': ['Waiting', 'Healthy'],
  'remove-network': ['Removing', 'Removed'],
  'remove-volume': ['Removing', 'Removed'],
  'remove-image': ['Removing', 'Removed'],
};

/** The API-visible handle of a container: its id when known, else its name. */
function handle(c: ContainerRef): string {
  return c.id ?? c.name;
}

/** Maps an API failure to an EngineError naming the operation and the resource. */
function apiError(op: Op, e: unknown): TscError {
  if (isTscError(e)) return e;
  const { kind, resource } = subject(op);
  const verb = op.kind.split('-')[0] ?? op.kind;
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  const errno = (e as { code?: unknown } | null)?.code;
  let code: ErrorCode = 'TSC_ENGINE_STATE';
  if (status === 404) code = 'TSC_ENGINE_NOT_FOUND';
  else if (status === 409) code = 'TSC_ENGINE_CONFLICT';
  // ECONNRESET: the engine went away mid-request (node's `socket hang up`)
  else if (errno === 'ECONNREFUSED' || errno === 'ENOENT' || errno === 'ECONNRESET')
    code = 'TSC_ENGINE_UNAVAILABLE';
  else if (op.kind === 'pull-image') code = 'TSC_IMAGE_PULL';
  // the daemon's own message, without dockerode's "(HTTP code 500) server error - " wrapper
  const json = (e as { json?: { message?: unknown } | null } | null)?.json;
  const detail =
    typeof json?.message === 'string' ? json.message : e instanceof Error ? e.message : String(e);
  return new EngineError(
    code,
    { kind: kind.toLowerCase(), name: resource },
    `${verb} ${kind.toLowerCase()} ${resource}: ${detail}`,
    { cause: e },
  );
}

function dependencyError(message: string): TscError {
  return new TscError('TSC_COMPOSE_DEPENDENCY', message);
}

/** The rejection of an operation cancelled by the run's signal. */
export class AbortedError extends TscError {
  constructor() {
    super('TSC_ENGINE_STATE', 'interrupted: operation cancelled');
  }
}

/** True for the rejection of a cancelled operation ({@link AbortedError}, a DOM AbortError). */
function isAbort(e: unknown): boolean {
  return e instanceof AbortedError || (e as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * Settles as `p` does, or rejects with {@link AbortedError} as soon as `signal` aborts (the
 * operation itself runs on; its result is dropped).
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new AbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(isAbort(e) ? new AbortedError() : (e as Error));
      },
    );
  });
}

/**
 * Waits until every container of a dependency meets `condition`, polling inspect every `pollMs`.
 * Messages are docker compose's (pkg/compose/convergence.go).
 * @returns the final status word (`Healthy`, `Exited`, `Started`)
 * @throws TscError TSC_COMPOSE_DEPENDENCY when a container fails the condition or the wait times
 *   out; {@link AbortedError} as soon as `signal` aborts (during an inspect or between polls)
 */
export async function waitCondition(
  client: Pick<ExecuteClient, 'inspectContainer'>,
  service: string,
  condition: DependencyCondition,
  containers: readonly string[],
  o: Pick<ExecuteOptions, 'clock' | 'pollMs' | 'waitTimeoutMs' | 'signal'> = {},
): Promise<ProgressStatus> {
  const clock = o.clock ?? systemClock;
  const signal = o.signal;
  const start = clock.now();
  const pending = new Set(containers);
  for (;;) {
    for (const name of [...pending]) {
      const s = await abortable(client.inspectContainer(name), signal);
      const exited = s.Status === 'exited' || s.Status === 'dead';
      switch (condition) {
        case 'service_started':
          // used by `up --wait` only (depends_on service_started needs no wait node): running,
          // and healthy when the container has a healthcheck (from the image, say)
          if (exited) {
            throw dependencyError(`container ${name} exited (${s.ExitCode})`);
          }
          if (s.Health?.Status === 'unhealthy') {
            throw dependencyError(`container ${name} is unhealthy`);
          }
          if (s.Running && (s.Health === undefined || s.Health.Status === 'healthy')) {
            pending.delete(name);
          }
          break;
        case 'service_healthy':
          if (s.Health === undefined) {
            throw dependencyError(
              `dependency failed to start: container ${name} has no healthcheck configured`,
            );
          }
          if (s.Health.Status === 'healthy') pending.delete(name);
          else if (s.Health.Status === 'unhealthy') {
            throw dependencyError(`dependency failed to start: container ${name} is unhealthy`);
          } else if (exited) {
            throw dependencyError(
              `dependency failed to start: container ${name} exited (${s.ExitCode})`,
            );
          }
          break;
        case 'service_completed_successfully':
          if (exited) {
            if (s.ExitCode !== 0) {
              throw dependencyError(
                `service "${service}" didn't complete successfully: exit ${s.ExitCode}`,
              );
            }
            pending.delete(name);
          }
          break;
      }
    }
    if (pending.size === 0) break;
    if (o.waitTimeoutMs !== undefined && clock.now() - start >= o.waitTimeoutMs) {
      throw dependencyError(`timeout waiting for dependency service "${service}" (${condition})`);
    }
    await abortable(clock.sleep(o.pollMs ?? 500, signal), signal);
  }
  return condition === 'service_healthy'
    ? 'Healthy'
    : condition === 'service_started'
      ? 'Started'
      : 'Exited';
}

/** Runs one node's API call(s); returns the final progress status. */
async function run(client: ExecuteClient, op: Op, o: ExecuteOptions): Promise<ProgressStatus> {
  switch (op.kind) {
    case 'pull-image':
      await abortable(client.pullImage(op.ref, op.platform, o.signal), o.signal);
      break;
    case 'create-network':
      await client.createNetwork(op.body);
      break;
    case 'create-volume':
      await client.createVolume(op.body);
      break;
    case 'create-container': {
      const id = await client.createContainer(op.spec.body);
      for (const c of op.spec.connect) await client.connectNetwork(c.network, id, c.endpoint);
      break;
    }
    case 'start-container':
      await client.startContainer(handle(op.container));
      break;
    case 'stop-container':
      await client.stopContainer(handle(op.container), op.timeoutS);
      break;
    case 'remove-container':
      await client.removeContainer(handle(op.container), op.volumes);
      break;
    case 'wait-service':
      return waitCondition(client, op.service, op.condition, op.containers, o);
    case 'remove-network':
      await client.removeNetwork(op.name);
      break;
    case 'remove-volume':
      await client.removeVolume(op.name);
      break;
    case 'remove-image':
      await client.removeImage(op.ref);
      break;
  }
  return STATUS[op.kind][1];
}

/**
 * Executes the plan: a node starts once every node in its `after` is done; at most `concurrency`
 * run at once, ready nodes taken in id order. The first failure (or an abort) stops launching;
 * running nodes finish, and every node not run is `skipped` (one `Skipped` event per resource). An
 * abort of `o.signal` also cancels running dependency waits and pulls: those nodes end `skipped`
 * too, and the abort is no error of the result. A failed `wait-service` for an optional dependency
 * (`required: false`) only warns.
 * Never throws: the first error is in the result (TscError; API failures as EngineError).
 */
export async function executePlan(
  client: ExecuteClient,
  nodes: readonly PlanNode[],
  o: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const limit = Math.max(1, o.concurrency ?? 4);
  const clock = o.clock ?? systemClock;
  const emit = o.onProgress ?? ((): void => undefined);
  const outcomes = new Map<number, NodeOutcome>();
  const waiting = [...nodes].sort((a, b) => a.id - b.id);
  let error: TscError | undefined;
  let running = 0;

  return new Promise<ExecuteResult>((resolve) => {
    const finish = (): void => {
      // one Skipped per resource, though several of its nodes (create, start, ...) were not run
      const shown = new Set<string>();
      for (const n of waiting) {
        outcomes.set(n.id, 'skipped');
        for (const s of subjects(n.op)) {
          const key = `${s.kind} ${s.resource}`;
          if (shown.has(key)) continue;
          shown.add(key);
          emit({ node: n.id, ...s, status: 'Skipped', ms: 0 });
        }
      }
      waiting.length = 0;
      resolve({ outcomes, error });
    };
    const pump = (): void => {
      const stopping = error !== undefined || o.signal?.aborted === true;
      if (!stopping) {
        for (let i = 0; i < waiting.length && running < limit;) {
          const n = waiting[i];
          if (n === undefined) break;
          if (n.after.some((d) => outcomes.get(d) !== 'done')) {
            i++;
            continue;
          }
          waiting.splice(i, 1);
          running++;
          void launch(n);
        }
      }
      if (running === 0) {
        if (!stopping && waiting.length > 0) {
          // unreachable for a plan from reconcile (ids are topological); guard against a bad DAG
          error = new TscError(
            'TSC_ENGINE_STATE',
            `execute plan: node #${waiting[0]?.id} never became ready`,
          );
        }
        finish();
      }
    };
    const launch = async (n: PlanNode): Promise<void> => {
      const subs = subjects(n.op);
      const t0 = clock.now();
      for (const s of subs) emit({ node: n.id, ...s, status: STATUS[n.op.kind][0], ms: 0 });
      try {
        const status = await run(client, n.op, o);
        outcomes.set(n.id, 'done');
        for (const s of subs) emit({ node: n.id, ...s, status, ms: clock.now() - t0 });
      } catch (e) {
        if (o.signal?.aborted === true && isAbort(e)) {
          // cancelled by Ctrl-C: reported with the nodes never run
          waiting.push(n);
          running--;
          pump();
          return;
        }
        const err =
          n.op.kind === 'wait-service'
            ? isTscError(e)
              ? e
              : apiError(n.op, e)
            : apiError(n.op, e);
        for (const s of subs) {
          emit({ node: n.id, ...s, status: 'Error', ms: clock.now() - t0, error: err.message });
        }
        if (n.op.kind === 'wait-service' && !n.op.required) {
          o.onWarning?.(err.message);
          outcomes.set(n.id, 'done');
        } else {
          outcomes.set(n.id, 'failed');
          error ??= err;
        }
      }
      running--;
      pump();
    };
    pump();
  });
}

/** Waits for a pull stream to end, rejecting on an `error` message in the stream. */
function followPull(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = out?.find((m) => m.error !== undefined);
      if (err) reject(err);
      else if (failed?.error !== undefined) reject(new TscError('TSC_IMAGE_PULL', failed.error));
      else resolve();
    });
  });
}

/** True for `304 Not Modified` (stop of a stopped container, start of a running one). */
function notModified(e: unknown): boolean {
  return (e as { statusCode?: unknown } | null)?.statusCode === 304;
}

/** Adapts a dockerode `Docker` instance (our daemon or a real dockerd) to {@link ExecuteClient}. */
export function dockerodeClient(docker: Dockerode): ExecuteClient {
  return {
    pullImage: async (ref, platform, signal) => {
      const stream = await docker.pull(ref, {
        ...(platform === undefined ? {} : { platform }),
        ...(signal === undefined ? {} : { abortSignal: signal }),
      });
      await followPull(docker, stream);
    },
    createNetwork: async (body) => {
      await docker.createNetwork(body);
    },
    createVolume: async (body) => {
      await docker.createVolume(body);
    },
    createContainer: async (body) => (await docker.createContainer(body)).id,
    connectNetwork: async (network, container, endpoint) => {
      await docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpoint });
    },
    startContainer: async (id) => {
      await docker
        .getContainer(id)
        .start()
        .catch((e: unknown) => {
          if (!notModified(e)) throw e;
        });
    },
    stopContainer: async (id, timeoutS) => {
      await docker
        .getContainer(id)
        .stop(timeoutS === undefined ? {} : { t: timeoutS })
        .catch((e: unknown) => {
          if (!notModified(e)) throw e;
        });
    },
    removeContainer: async (id, volumes) => {
      await docker.getContainer(id).remove({ v: volumes, force: true });
    },
    inspectContainer: async (id) => (await docker.getContainer(id).inspect()).State,
    removeNetwork: async (name) => {
      await docker.getNetwork(name).remove();
    },
    removeVolume: async (name) => {
      await docker.getVolume(name).remove();
    },
    removeImage: async (ref) => {
      await docker.getImage(ref).remove();
    },
  };
}
