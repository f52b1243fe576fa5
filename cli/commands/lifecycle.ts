/**
 * The container lifecycle commands on existing containers: `start`, `stop`, `restart`, `kill`,
 * `rm`, `pause`, `unpause` (docker compose semantics; stop/start through orchestrator plans, the
 * rest one API call per container). Each returns the exit code.
 */
import type { Command } from 'commander';
import type { ContainerInfo } from 'dockerode';

import { EngineError } from '../../base/errors.js';
import {
  PlanBuilder,
  SERVICE_LABEL,
  dependencyOrder,
  observe,
  reconcileStop,
  renderJsonEvent,
  renderPlainEvent,
  serviceDependencies,
  type Plan,
} from '../../compose/orchestrator/index.js';
import type { GlobalOptions } from '../options.js';
import { progressMode } from '../render/progress.js';
import {
  checkServices,
  containerName,
  intFlag,
  openProject,
  projectContainers,
  replicaOf,
  runPlan,
  type ProjectContext,
} from './common.js';

/** Registers start, stop, restart, kill, rm, pause and unpause. */
export function registerLifecycle(program: Command, globals: () => GlobalOptions): void {
  program
    .command('start')
    .description('Start services')
    .argument('[service...]', 'services')
    .action(async (services: string[]) => {
      process.exitCode = await runStart(globals(), services);
    });
  program
    .command('stop')
    .description('Stop services')
    .argument('[service...]', 'services')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async (services: string[], o: { timeout?: string }) => {
      process.exitCode = await runStop(globals(), services, o);
    });
  program
    .command('restart')
    .description('Restart service containers')
    .argument('[service...]', 'services')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .option('--no-deps', "Don't restart dependent services")
    .action(async (services: string[], o: { timeout?: string }) => {
      process.exitCode = await runRestart(globals(), services, o);
    });
  program
    .command('kill')
    .description('Force stop service containers')
    .argument('[service...]', 'services')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(async (services: string[], o: { signal?: string; removeOrphans?: boolean }) => {
      process.exitCode = await runKill(globals(), services, o);
    });
  program
    .command('rm')
    .description('Removes stopped service containers')
    .argument('[service...]', 'services')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action(async (services: string[], o: RmFlags) => {
      process.exitCode = await runRm(globals(), services, o);
    });
  program
    .command('pause')
    .description('Pause services')
    .argument('[service...]', 'services')
    .action(async (services: string[]) => {
      process.exitCode = await runPause(globals(), services, true);
    });
  program
    .command('unpause')
    .description('Unpause services')
    .argument('[service...]', 'services')
    .action(async (services: string[]) => {
      process.exitCode = await runPause(globals(), services, false);
    });
}

/**
 * The start plan for existing stopped containers: services in dependency order, each replica's
 * start after its dependencies' starts (no depends_on condition waits).
 */
export function startPlan(ctx: ProjectContext, list: readonly ContainerInfo[]): Plan {
  const b = new PlanBuilder();
  const byService = new Map<string, ContainerInfo[]>();
  for (const c of list) {
    const s = c.Labels[SERVICE_LABEL] ?? '';
    byService.set(s, [...(byService.get(s) ?? []), c]);
  }
  const services = ctx.loaded?.project.services ?? {};
  const order = ctx.loaded
    ? dependencyOrder(services, byService.keys())
    : [...byService.keys()].sort();
  const ids = new Map<string, number[]>();
  for (const s of order) {
    const svc = services[s];
    const after = (svc ? serviceDependencies(svc) : []).flatMap((d) => ids.get(d) ?? []);
    const mine: number[] = [];
    for (const c of byService.get(s) ?? []) {
      if (c.State === 'running' || c.State === 'paused') continue;
      const number = replicaOf(c) || 1;
      mine.push(
        b.add(
          {
            kind: 'start-container',
            container: { service: s, replica: number, name: containerName(c), id: c.Id },
          },
          c.State,
          after,
        ),
      );
    }
    ids.set(s, mine);
  }
  return { nodes: b.nodes, orphans: [] };
}

/** Runs `start`. */
export async function runStart(g: GlobalOptions, services: readonly string[]): Promise<number> {
  const ctx = await openProject(g, { optional: true, start: true });
  checkServices(ctx, services);
  const list = await projectContainers(ctx, { all: true, services, oneoff: false });
  if (list.length === 0) {
    throw new EngineError(
      'TSC_ENGINE_NOT_FOUND',
      { kind: 'project', name: ctx.name },
      'service(s) not found: no containers to start',
      { hint: 'run `tscompose up` first' },
    );
  }
  await runPlan(g, ctx.docker, startPlan(ctx, list));
  return 0;
}

/** Runs `stop`. */
export async function runStop(
  g: GlobalOptions,
  services: readonly string[],
  o: { timeout?: string | undefined },
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  await runPlan(g, ctx.docker, await stopPlan(ctx, services, o.timeout));
  return 0;
}

/**
 * The stop plan of these services' containers (all of the project's when `services` is empty),
 * dependents first, from one fresh observation. `timeout`: the `-t` flag's text (seconds).
 * @throws UsageError on a `-t` that is not an integer; the client's errors from observe
 */
export async function stopPlan(
  ctx: Awaited<ReturnType<typeof openProject>>,
  services: readonly string[],
  timeout: string | undefined,
): Promise<ReturnType<typeof reconcileStop>> {
  const observed = await observe(ctx.docker, ctx.name, { images: false });
  return reconcileStop(
    observed,
    { services, timeoutS: intFlag('--timeout', timeout) },
    ctx.loaded?.project,
  );
}

/** Runs `restart`: a stop plan, then a start plan over the same containers. */
export async function runRestart(
  g: GlobalOptions,
  services: readonly string[],
  o: { timeout?: string | undefined },
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  const before = await projectContainers(ctx, { all: true, services, oneoff: false });
  await runPlan(g, ctx.docker, await stopPlan(ctx, services, o.timeout));
  const ids = new Set(before.map((c) => c.Id));
  const now = (await projectContainers(ctx, { all: true, services, oneoff: false })).filter((c) =>
    ids.has(c.Id),
  );
  await runPlan(g, ctx.docker, startPlan(ctx, now));
  return 0;
}

/** Writes one progress line (plain or json per `--progress`) for the simple commands. */
export function simpleProgress(
  g: GlobalOptions,
  resource: string,
  status: string,
  ms: number,
): void {
  const mode = progressMode(g.progress, process.stderr.isTTY);
  const e = { node: 0, kind: 'Container' as const, resource, status: status as 'Started', ms };
  if (mode === 'json') process.stderr.write(`${renderJsonEvent(e)}\n`);
  else if (mode !== 'quiet') process.stderr.write(`${renderPlainEvent(e)}\n`);
}

async function eachContainer(
  g: GlobalOptions,
  list: readonly ContainerInfo[],
  words: [string, string],
  call: (c: ContainerInfo) => Promise<unknown>,
): Promise<void> {
  await Promise.all(
    list.map(async (c) => {
      const t0 = performance.now();
      simpleProgress(g, containerName(c), words[0], 0);
      try {
        await call(c);
      } catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        throw new EngineError(
          'TSC_ENGINE_STATE',
          { kind: 'container', name: containerName(c) },
          `${words[0].toLowerCase()} container ${containerName(c)}: ${detail}`,
          { cause: e },
        );
      }
      simpleProgress(g, containerName(c), words[1], performance.now() - t0);
    }),
  );
}

/**
 * Runs `kill -s SIGNAL` on the running containers, one-off ones included; containers of services
 * no longer in the compose file (orphans) only with `--remove-orphans` (docker compose v2's rule).
 */
export async function runKill(
  g: GlobalOptions,
  services: readonly string[],
  o: { signal?: string | undefined; removeOrphans?: boolean | undefined },
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  // docker compose: running containers, one-off ones included; containers of services the
  // compose file no longer has (orphans) only with --remove-orphans
  const known = ctx.loaded?.project.services;
  const list = (await projectContainers(ctx, { services })).filter(
    (c) =>
      c.State === 'running' &&
      (o.removeOrphans === true ||
        known === undefined ||
        known[c.Labels[SERVICE_LABEL] ?? ''] !== undefined),
  );
  if (list.length === 0) {
    process.stderr.write('no container to kill\n');
    return 0;
  }
  await eachContainer(g, list, ['Killing', 'Killed'], (c) =>
    ctx.docker.getContainer(c.Id).kill({ signal: o.signal ?? 'SIGKILL' }),
  );
  return 0;
}

/** `rm` flags. */
export interface RmFlags {
  readonly force?: boolean;
  readonly stop?: boolean;
  readonly volumes?: boolean;
}

/** Runs `rm`: removes stopped containers (with -s, stops running ones first). Never prompts. */
export async function runRm(
  g: GlobalOptions,
  services: readonly string[],
  o: RmFlags,
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  if (o.stop === true) await runPlan(g, ctx.docker, await stopPlan(ctx, services, undefined));
  const list = (await projectContainers(ctx, { all: true, services, oneoff: false })).filter(
    (c) => c.State !== 'running' && c.State !== 'paused' && c.State !== 'restarting',
  );
  if (list.length === 0) {
    process.stderr.write('No stopped containers\n');
    return 0;
  }
  await eachContainer(g, list, ['Removing', 'Removed'], (c) =>
    ctx.docker.getContainer(c.Id).remove({ v: o.volumes === true }),
  );
  return 0;
}

/** Runs `pause` (pause=true) or `unpause`. */
export async function runPause(
  g: GlobalOptions,
  services: readonly string[],
  pause: boolean,
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  const list = (await projectContainers(ctx, { services, oneoff: false })).filter((c) =>
    pause ? c.State === 'running' : c.State === 'paused',
  );
  await eachContainer(g, list, pause ? ['Pausing', 'Paused'] : ['Unpausing', 'Unpaused'], (c) =>
    pause ? ctx.docker.getContainer(c.Id).pause() : ctx.docker.getContainer(c.Id).unpause(),
  );
  return 0;
}
