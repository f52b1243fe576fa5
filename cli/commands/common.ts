/**
 * What most commands share: opening the project (loader + client), listing its containers,
 * running a plan with progress, and resolving service names. No command-specific flags here.
 */

import type Dockerode from 'dockerode';
import type { ContainerInfo } from 'dockerode';

import { TscError, UsageError, isTscError } from '../../base/errors.js';
import { loadProject, type LoadedProject } from '../../compose/index.js';
import { checkProjectName } from '../../compose/sources.js';
import {
  ONEOFF_LABEL,
  PROJECT_LABEL,
  SERVICE_LABEL,
  CONTAINER_NUMBER_LABEL,
  dockerodeClient,
  executePlan,
  observe,
  type ObservedState,
  type Plan,
  type ExternalResourceClient,
  type ProgressEvent,
  type UpOptions,
} from '../../compose/orchestrator/index.js';
import { asEngineError, dockerClient } from '../client.js';
import { DEFAULT_PARALLEL, parallelLimit, toLoadOptions, type GlobalOptions } from '../options.js';
import { createDisplay, progressMode } from '../render/progress.js';

/** A command's view of the project: the client, the project name and (when loadable) the project. */
export interface ProjectContext {
  readonly docker: Dockerode;
  readonly name: string;
  /** Undefined when no compose file was found and `-p` named the project (down, ps, logs...). */
  readonly loaded: LoadedProject | undefined;
}

/**
 * Loads the project and connects to the daemon. With `optional`, a missing compose file is fine
 * when `-p` names the project (docker compose lets `down -p x` work anywhere). With `start`, a
 * stopped tscompose engine is started (commands that create things).
 * @throws ComposeError from the loader; EngineError when the engine cannot be reached
 */
export async function openProject(
  g: GlobalOptions,
  o: { readonly optional?: boolean; readonly start?: boolean } = {},
  client?: Dockerode,
): Promise<ProjectContext> {
  let loaded: LoadedProject | undefined;
  try {
    loaded = loadProject(toLoadOptions(g));
  } catch (e) {
    const missing = isTscError(e) && e.code === 'TSC_COMPOSE_NOT_FOUND';
    if (!(o.optional === true && missing && g.projectName !== undefined)) throw e;
    // with no compose file the loader never checked it: `down -p 'Bad!'` must not act on it
    checkProjectName(g.projectName, '-p');
  }
  const name = loaded?.project.name ?? g.projectName ?? '';
  const docker = client ?? (await dockerClient(g, { start: o.start === true }));
  return { docker, name, loaded };
}

/**
 * {@link openProject} and {@link observe} with the two overlapped when `-p` names the project:
 * the daemon is asked for the project's resources before the compose file is read (the loader
 * is synchronous, so the requests are sent first and their answers wait in the socket), and
 * that answer is used when the loaded project has that name; otherwise, or when the daemon
 * cannot be reached yet (not started: `openProject` reports that after the compose file's own
 * errors, as before), one after the other. `check` runs on the loaded project before the answer
 * is read, so its errors come first as they did. Same results and errors as calling openProject,
 * the checks and observe in turn.
 * @throws as openProject and observe
 */
export async function openProjectObserved(
  g: GlobalOptions,
  o: {
    readonly optional?: boolean;
    readonly start?: boolean;
    /** Checks of the loaded project (service names...), run before the daemon's answer is read. */
    readonly check?: (ctx: ProjectContext) => void;
  },
  observeOptions: { readonly images?: boolean } = {},
): Promise<{ ctx: ProjectContext; observed: ObservedState }> {
  const early = g.projectName;
  let client: Dockerode | undefined;
  let prefetch: Promise<ObservedState> | undefined;
  if (early !== undefined) {
    try {
      client = await dockerClient(g);
      prefetch = observe(client, early, observeOptions);
      // an error is read below only if this answer is used
      prefetch.catch(() => undefined);
      // one turn of the event loop: the connections open and the requests are written
      await new Promise((resolve) => setImmediate(resolve));
    } catch {
      client = undefined;
      prefetch = undefined;
    }
  }
  const ctx = await openProject(g, o, client);
  o.check?.(ctx);
  const observed =
    prefetch !== undefined && ctx.name === early
      ? await prefetch
      : await observe(ctx.docker, ctx.name, observeOptions);
  return { ctx, observed };
}

/**
 * The daemon side of {@link checkExternalResources}: `GET /networks/{name}` and
 * `GET /volumes/{name}`, 404 = absent; other failures as EngineError.
 */
export function externalClient(docker: Dockerode): ExternalResourceClient {
  const exists = async (inspect: () => Promise<unknown>): Promise<boolean> => {
    try {
      await inspect();
      return true;
    } catch (e) {
      if ((e as { statusCode?: unknown }).statusCode === 404) return false;
      throw asEngineError(e);
    }
  };
  return {
    networkExists: (n) => exists(() => docker.getNetwork(n).inspect()),
    volumeExists: (v) => exists(() => docker.getVolume(v).inspect()),
  };
}

/**
 * Validates service names given on the command line against the project. Throws a
 * TSC_COMPOSE_REFERENCE `no such service: NAME` (exit 1, like docker compose's
 * `compose-go:types/project.go#GetServices` error; not a usage error).
 */
export function checkServices(ctx: ProjectContext, services: readonly string[]): void {
  if (!ctx.loaded) return;
  for (const s of services) {
    if (ctx.loaded.project.services[s] === undefined) {
      throw new TscError('TSC_COMPOSE_REFERENCE', `no such service: ${s}`);
    }
  }
}

/** Labels filter for the project's containers (one-off `run` containers included unless told). */
export async function projectContainers(
  ctx: Pick<ProjectContext, 'docker' | 'name'>,
  o: {
    readonly all?: boolean;
    readonly services?: readonly string[];
    readonly oneoff?: boolean;
  } = {},
): Promise<ContainerInfo[]> {
  const label = [`${PROJECT_LABEL}=${ctx.name}`];
  if (o.oneoff === false) label.push(`${ONEOFF_LABEL}=False`);
  const list = await ctx.docker.listContainers({ all: o.all === true, filters: { label } });
  const wanted =
    o.services !== undefined && o.services.length > 0 ? new Set(o.services) : undefined;
  return list
    .filter((c) => wanted === undefined || wanted.has(c.Labels[SERVICE_LABEL] ?? ''))
    .sort((a, b) => containerName(a).localeCompare(containerName(b)));
}

/** A listed container's name without the leading `/`. */
export function containerName(c: Pick<ContainerInfo, 'Names'>): string {
  return (c.Names[0] ?? '').replace(/^\//, '');
}

/** The replica number label of a listed container (0 when absent). */
export function replicaOf(c: Pick<ContainerInfo, 'Labels'>): number {
  const n = Number(c.Labels[CONTAINER_NUMBER_LABEL]);
  return Number.isInteger(n) ? n : 0;
}

/** The project's containers of one service, replica `index` (docker compose `--index`, default 1). */
export async function serviceContainer(
  ctx: ProjectContext,
  service: string,
  index = 1,
): Promise<ContainerInfo> {
  const list = await projectContainers(ctx, { all: true, services: [service], oneoff: false });
  const c = list.find((x) => replicaOf(x) === index);
  if (!c) {
    throw new TscError('TSC_ENGINE_NOT_FOUND', `service "${service}" is not running`);
  }
  return c;
}

/**
 * The translate context (labels) for this project: its directory, compose files and the env files
 * the loader read (`--env-file`, `COMPOSE_ENV_FILES` or `.env`), as docker compose labels them.
 */
export function translateContext(loaded: LoadedProject): NonNullable<UpOptions['translate']> {
  return {
    workingDir: loaded.workingDir,
    configFiles: loaded.files,
    envFiles: loaded.envFiles,
  };
}

/** Options for running a plan. */
export interface RunPlanOptions {
  readonly waitTimeoutMs?: number | undefined;
  /** Cancels the run (as Ctrl-C does); when it aborts, runPlan resolves without an error. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether runPlan handles SIGINT itself (default true): the first cancels the run and makes it
   * throw `interrupted`, the second exits 130. False when the caller owns SIGINT (`up`).
   */
  readonly sigint?: boolean | undefined;
  /** Events shown before the plan's (`Container x  Running` for containers left alone). */
  readonly preface?: readonly ProgressEvent[] | undefined;
}

/**
 * Executes a plan with the progress display `--progress` asks for (on stderr).
 * @throws the first error of the run (TscError naming the resource and cause)
 */
export async function runPlan(
  g: GlobalOptions,
  docker: Dockerode,
  plan: Plan,
  o: RunPlanOptions = {},
): Promise<void> {
  const mode = progressMode(g.progress, process.stderr.isTTY);
  const display = createDisplay(mode, plan.nodes);
  if (mode !== 'tty') for (const e of o.preface ?? []) display.onEvent(e);
  // Ctrl-C: launch nothing more, cancel waits and pulls, let other running API calls finish; a
  // second Ctrl-C exits at once
  const abort = new AbortController();
  const forward = (): void => abort.abort();
  if (o.signal?.aborted === true) abort.abort();
  else o.signal?.addEventListener('abort', forward, { once: true });
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  if (o.sigint !== false) process.on('SIGINT', onSigint);
  let res;
  try {
    res = await executePlan(dockerodeClient(docker), plan.nodes, {
      onProgress: display.onEvent,
      onWarning: (m) => process.stderr.write(`WARN[0000] ${m}\n`),
      waitTimeoutMs: o.waitTimeoutMs,
      signal: abort.signal,
      concurrency: parallelLimit(g) ?? DEFAULT_PARALLEL,
    });
  } finally {
    process.off('SIGINT', onSigint);
    o.signal?.removeEventListener('abort', forward);
  }
  await display.close();
  if (res.error) throw res.error;
  if (abort.signal.aborted && o.signal?.aborted !== true) {
    throw new TscError('TSC_ENGINE_STATE', 'interrupted: operations not yet started were skipped', {
      hint: 'run the command again to finish',
    });
  }
}

/** Parses a non-negative integer flag (`-t 10`, `--tail 5`). */
export function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid value for ${name}: ${v}`);
  return n;
}

/** The orphan warning docker compose prints. */
export function orphanWarning(names: readonly string[]): string {
  return (
    `WARN[0000] Found orphan containers ([${names.join(' ')}]) for this project. If you removed or ` +
    `renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`
  );
}

/** Whether to colour output: `--ansi always`, or a terminal unless `--ansi never` / `--no-color`. */
export function useColor(g: GlobalOptions, isTTY: boolean, noColor: boolean): boolean {
  if (noColor || g.ansi === 'never') return false;
  return g.ansi === 'always' || isTTY;
}
