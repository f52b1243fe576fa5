/**
 * `tscompose up`: create and start the project's containers (docker compose up: -d, --wait,
 * --wait-timeout, --no-start, --force-recreate, --no-recreate, --remove-orphans, --scale, --no-deps,
 * -t, --pull, --abort-on-container-exit, --exit-code-from; attached logs; Ctrl-C at any point
 * cancels the plan and, attached, stops the selected containers).
 */
import { setTimeout as delay } from 'node:timers/promises';

import type { Command } from 'commander';
import type { ContainerInfo } from 'dockerode';

import { UsageError } from '../../base/errors.js';
import {
  checkExternalResources,
  reconcileUp,
  selectServices,
  type ProgressEvent,
  type ProgressStatus,
  type UpOptions,
} from '../../compose/orchestrator/index.js';
import { collect, type GlobalOptions } from '../options.js';
import { displayName } from '../render/logs.js';
import { progressMode } from '../render/progress.js';
import {
  checkServices,
  containerName,
  externalClient,
  intFlag,
  openProjectObserved,
  orphanWarning,
  projectContainers,
  runPlan,
  translateContext,
  useColor,
  type ProjectContext,
} from './common.js';
import { stopPlan } from './lifecycle.js';
import { streamLogs } from './logs.js';

/** `up` flags. */
export interface UpFlags {
  readonly detach?: boolean;
  readonly wait?: boolean;
  readonly waitTimeout?: string;
  readonly start?: boolean;
  readonly forceRecreate?: boolean;
  readonly recreate?: boolean;
  readonly removeOrphans?: boolean;
  readonly scale?: string[];
  readonly deps?: boolean;
  readonly timeout?: string;
  readonly pull?: string;
  readonly abortOnContainerExit?: boolean;
  readonly exitCodeFrom?: string;
  readonly color?: boolean;
  readonly logPrefix?: boolean;
  readonly quietPull?: boolean;
}

/** Registers `up`. */
export function registerUp(program: Command, globals: () => GlobalOptions): void {
  program
    .command('up')
    .description('Create and start containers')
    .argument('[service...]', 'services')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
    .option(
      '--wait-timeout <seconds>',
      'Maximum duration in seconds to wait for the project to be running|healthy',
    )
    .option('--no-start', "Don't start the services after creating them")
    .option(
      '--force-recreate',
      "Recreate containers even if their configuration and image haven't changed",
    )
    .option(
      '--no-recreate',
      "If containers already exist, don't recreate them. Incompatible with --force-recreate.",
    )
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option(
      '--scale <SERVICE=NUM>',
      'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.',
      collect,
    )
    .option('--no-deps', "Don't start linked services")
    .option(
      '-t, --timeout <seconds>',
      'Use this timeout in seconds for container shutdown when attached or when containers are already running',
    )
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'policy')
    .option(
      '--abort-on-container-exit',
      'Stops all containers if any container was stopped. Incompatible with -d',
    )
    .option(
      '--exit-code-from <service>',
      'Return the exit code of the selected service container. Implies --abort-on-container-exit',
    )
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--quiet-pull', 'Pull without printing progress information')
    .action(async (services: string[], o: UpFlags) => {
      process.exitCode = await runUp(globals(), services, o);
    });
}

/** Parses `--scale web=3` flags into a map. @throws UsageError on a malformed entry */
export function parseScale(flags: readonly string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of flags ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(f);
    if (!m?.[1] || m[2] === undefined)
      throw new UsageError(`invalid --scale value ${JSON.stringify(f)}`, {
        hint: 'use --scale SERVICE=NUM',
      });
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * Checks the flag combinations docker compose refuses and turns flags into orchestrator options.
 * @throws UsageError for incompatible flags
 */
export function upOptions(
  services: readonly string[],
  o: UpFlags,
): UpOptions & { waitTimeoutMs?: number | undefined } {
  const abort = o.abortOnContainerExit === true || o.exitCodeFrom !== undefined;
  const detach = o.detach === true || o.wait === true;
  if (detach && abort)
    throw new UsageError('--abort-on-container-exit and --detach are incompatible');
  if (o.forceRecreate === true && o.recreate === false) {
    throw new UsageError('--force-recreate and --no-recreate are incompatible');
  }
  const pull = o.pull === undefined || o.pull === 'policy' ? undefined : o.pull;
  if (pull !== undefined && !['always', 'missing', 'never', 'build'].includes(pull)) {
    throw new UsageError(`invalid --pull option ${JSON.stringify(pull)}`);
  }
  const wt = intFlag('--wait-timeout', o.waitTimeout);
  return {
    services,
    forceRecreate: o.forceRecreate === true,
    noRecreate: o.recreate === false,
    removeOrphans: o.removeOrphans === true,
    scale: parseScale(o.scale),
    noDeps: o.deps === false,
    noStart: o.start === false,
    wait: o.wait === true,
    pull,
    timeoutS: intFlag('--timeout', o.timeout),
    waitTimeoutMs: wt === undefined ? undefined : wt * 1000,
  };
}

/**
 * Runs `up`; resolves to the exit code (the `--exit-code-from` container's when given). From the
 * plan on, the first Ctrl-C (SIGINT) cancels what is pending (nodes not started are skipped,
 * dependency waits and pulls are cancelled) and resolves 130; attached, it first prints
 * `Gracefully stopping... (press Ctrl+C again to force)` and runs the stop plan of the selected
 * services (docker compose v2 does the same; detached it stops nothing). A second Ctrl-C exits 130
 * at once.
 * @throws the plan's first error (TscError) when not interrupted
 */
export async function runUp(
  g: GlobalOptions,
  services: readonly string[],
  o: UpFlags,
): Promise<number> {
  const opts = upOptions(services, o);
  const since = Math.floor(Date.now() / 1000);
  const { ctx, observed } = await openProjectObserved(g, {
    start: true,
    check: (c) => {
      checkServices(c, services);
      if (o.exitCodeFrom !== undefined) checkServices(c, [o.exitCodeFrom]);
      // `--scale nosvc=2`: docker compose says no such service rather than ignore it
      checkServices(c, Object.keys(opts.scale ?? {}));
    },
  });
  const loaded = ctx.loaded;
  if (!loaded) return 1;
  const plan = reconcileUp(loaded.project, observed, {
    ...opts,
    translate: translateContext(loaded),
  });
  // external networks and volumes must exist before anything is created (docker compose's check)
  await checkExternalResources(
    externalClient(ctx.docker),
    loaded.project,
    selectServices(loaded.project, opts),
  );
  if (plan.orphans.length > 0) process.stderr.write(orphanWarning(plan.orphans));
  const touched = new Set(
    plan.nodes.flatMap((n) => ('container' in n.op ? [n.op.container.name] : [])),
  );
  const preface: ProgressEvent[] = observed.containers
    .filter((c) => !c.oneoff && c.state === 'running' && !touched.has(c.name))
    .filter((c) => services.length === 0 || services.includes(c.service))
    .map((c) => ({
      node: 0,
      kind: 'Container',
      resource: c.name,
      status: 'Running' as ProgressStatus,
      ms: 0,
    }));
  const detached = o.detach === true || o.wait === true || o.start === false;
  const interrupt = new AbortController();
  // a live (tty) progress display would redraw over the notice: it is printed once that closes
  let deferNotice = progressMode(g.progress, process.stderr.isTTY) === 'tty';
  let noticeDue = false;
  const notice = (): void => {
    noticeDue = false;
    process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
  };
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    if (!detached) {
      if (deferNotice) noticeDue = true;
      else notice();
    }
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    try {
      await runPlan(g, ctx.docker, plan, {
        waitTimeoutMs: opts.waitTimeoutMs,
        preface,
        signal: interrupt.signal,
        sigint: false,
      });
    } catch (e) {
      // a failure of a node that was running at Ctrl-C: shown by the progress display already
      if (!interrupt.signal.aborted) throw e;
    }
    deferNotice = false;
    if (noticeDue) notice();
    if (interrupt.signal.aborted) {
      if (!detached) await stopSelected(g, ctx, services, o);
      return 130;
    }
    if (detached) return 0;
    return await attach(g, ctx, services, o, since, interrupt.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Runs the stop plan of the selected services (SIGINT stays with the caller). */
async function stopSelected(
  g: GlobalOptions,
  ctx: ProjectContext,
  services: readonly string[],
  o: UpFlags,
): Promise<void> {
  await runPlan(g, ctx.docker, await stopPlan(ctx, services, o.timeout), { sigint: false });
}

/**
 * Attached mode: follows the logs of the selected services' containers until they all exit, or
 * (with --abort-on-container-exit) until one does; when `interrupt` aborts (Ctrl-C, the caller
 * printed the notice) the selected services are stopped gracefully.
 */
async function attach(
  g: GlobalOptions,
  ctx: ProjectContext,
  services: readonly string[],
  o: UpFlags,
  since: number,
  interrupt: AbortSignal,
): Promise<number> {
  const list = await projectContainers(ctx, { all: true, services, oneoff: false });
  const shown = list.map((c) => displayName(ctx.name, containerName(c)));
  process.stdout.write(`Attaching to ${shown.join(', ')}\n`);
  const abort = o.abortOnContainerExit === true || o.exitCodeFrom !== undefined;
  const stopAll = (): Promise<void> => stopSelected(g, ctx, services, o);
  let interrupted = false;
  let stopping: Promise<void> | undefined;
  const onInterrupt = (): void => {
    interrupted = true;
    stopping ??= stopAll();
  };
  interrupt.addEventListener('abort', onInterrupt, { once: true });
  if (interrupt.aborted) onInterrupt();
  // a container's exit line comes after its last log line, as docker compose prints them
  const logEnded = new Map<string, () => void>();
  const logEnds = new Map(
    list.map((c) => [c.Id, new Promise<void>((resolve) => logEnded.set(c.Id, resolve))]),
  );
  try {
    const logs = streamLogs(
      ctx.docker,
      list,
      {
        project: ctx.name,
        follow: true,
        since,
        color: useColor(g, process.stdout.isTTY, o.color === false),
        noPrefix: o.logPrefix === false,
        onContainerEnd: (id) => logEnded.get(id)?.(),
      },
      process.stdout,
    );
    let exitCode = 0;
    let first: ContainerInfo | undefined;
    const waits = list.map(async (c) => {
      const r = (await ctx.docker.getContainer(c.Id).wait()) as { StatusCode?: number };
      const code = r.StatusCode ?? 0;
      // at most 2 s: a daemon may keep a restarting container's log stream open
      await Promise.race([logEnds.get(c.Id), delay(2000, undefined, { ref: false })]);
      process.stdout.write(`${displayName(ctx.name, containerName(c))} exited with code ${code}\n`);
      const svc = c.Labels['com.docker.compose.service'];
      if (o.exitCodeFrom !== undefined ? svc === o.exitCodeFrom : first === undefined) {
        exitCode = code;
      }
      first ??= c;
      if (abort && !interrupted) {
        process.stderr.write(`Aborting on container exit...\n`);
        interrupted = true;
        stopping ??= stopAll();
      }
    });
    await Promise.all(waits);
    await logs;
    if (stopping) await stopping;
    if (!abort && o.exitCodeFrom === undefined) exitCode = interrupted ? 130 : 0;
    return exitCode;
  } finally {
    interrupt.removeEventListener('abort', onInterrupt);
  }
}
