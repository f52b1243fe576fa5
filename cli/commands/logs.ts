/**
 * `tscompose logs`: the output of the project's containers (docker compose logs: -f, --tail,
 * --since, --until, -t, --no-color, --no-log-prefix, --index). Also the attached output of `up`
 * (followLogs). Writes lines as they come; returns the exit code.
 */
import type { Writable } from 'node:stream';

import type { Command } from 'commander';
import type Dockerode from 'dockerode';
import type { ContainerInfo } from 'dockerode';

import type { GlobalOptions } from '../options.js';
import { FrameDecoder, LineSplitter, displayName, logPrefix } from '../render/logs.js';
import {
  checkServices,
  containerName,
  intFlag,
  openProject,
  projectContainers,
  replicaOf,
  useColor,
} from './common.js';

/** `logs` flags. */
export interface LogsOptions {
  readonly follow?: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly until?: string;
  readonly timestamps?: boolean;
  readonly color?: boolean;
  readonly logPrefix?: boolean;
  readonly index?: string;
}

/** Registers `logs`. */
export function registerLogs(program: Command, globals: () => GlobalOptions): void {
  program
    .command('logs')
    .description('View output from containers')
    .argument('[service...]', 'services')
    .option('-f, --follow', 'Follow log output')
    .option(
      '-n, --tail <n>',
      'Number of lines to show from the end of the logs for each container',
      'all',
    )
    .option(
      '--since <ts>',
      'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)',
    )
    .option(
      '--until <ts>',
      'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)',
    )
    .option('-t, --timestamps', 'Show timestamps')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .action(async (services: string[], o: LogsOptions) => {
      process.exitCode = await runLogs(globals(), services, o, process.stdout);
    });
}

/**
 * A docker `--since`/`--until` value as the API wants it (unix seconds, possibly fractional):
 * RFC 3339 timestamps, unix timestamps, or durations relative to now (`42m`, `1h30m`, `10s`).
 */
export function apiTime(v: string, nowMs = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const rel = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (rel && v !== '') {
    const s = Number(rel[1] ?? 0) * 3600 + Number(rel[2] ?? 0) * 60 + Number(rel[3] ?? 0);
    return Math.floor(nowMs / 1000 - s);
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) return Number.NaN;
  return Math.floor(t / 1000);
}

/** What to stream and how. */
export interface StreamLogsOptions {
  readonly project: string;
  readonly follow: boolean;
  readonly tail?: number | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly timestamps?: boolean | undefined;
  readonly color: boolean;
  readonly noPrefix?: boolean | undefined;
  /** Called with a container's Id once its last line is written (or its stream failed). */
  readonly onContainerEnd?: ((id: string) => void) | undefined;
}

/**
 * Streams the logs of `containers` to `out`, one prefixed line at a time; resolves when every
 * stream has ended (with `follow`, when the containers stop).
 */
export async function streamLogs(
  docker: Dockerode,
  containers: readonly Pick<ContainerInfo, 'Id' | 'Names'>[],
  o: StreamLogsOptions,
  out: Pick<Writable, 'write'>,
): Promise<void> {
  const names = containers.map((c) => displayName(o.project, containerName(c)));
  const width = Math.max(0, ...names.map((n) => n.length));
  await Promise.all(
    containers.map((c, i) => streamOne(c, i).finally(() => o.onContainerEnd?.(c.Id))),
  );

  async function streamOne(c: Pick<ContainerInfo, 'Id' | 'Names'>, i: number): Promise<void> {
    const prefix = logPrefix(names[i] ?? '', i, {
      width,
      color: o.color,
      noPrefix: o.noPrefix === true,
    });
    const ct = docker.getContainer(c.Id);
    const tty = (await ct.inspect()).Config.Tty;
    const opts = {
      stdout: true,
      stderr: true,
      timestamps: o.timestamps === true,
      ...(o.tail !== undefined ? { tail: o.tail } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
    };
    const lines = new LineSplitter();
    const frames = new FrameDecoder();
    const emit = (text: string): void => {
      for (const l of lines.push(text)) out.write(`${prefix}${l}\n`);
    };
    const feed = (b: Buffer): void => {
      if (tty) emit(b.toString('utf8'));
      else for (const f of frames.push(b)) emit(f.data.toString('utf8'));
    };
    if (o.follow) {
      const stream = await ct.logs({ ...opts, follow: true });
      await new Promise<void>((resolve) => {
        stream.on('data', (b: Buffer) => feed(b));
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', () => resolve());
      });
    } else {
      const buf = await ct.logs({ ...opts, follow: false });
      feed(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
    }
    for (const l of lines.flush()) out.write(`${prefix}${l}\n`);
  }
}

/** Runs `logs`; resolves to the exit code. */
export async function runLogs(
  g: GlobalOptions,
  services: readonly string[],
  o: LogsOptions,
  out: Pick<Writable, 'write'> & { isTTY?: boolean },
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  let list = await projectContainers(ctx, { all: true, services });
  const index = intFlag('--index', o.index);
  if (index !== undefined) list = list.filter((c) => replicaOf(c) === index);
  const tail = o.tail === undefined || o.tail === 'all' ? undefined : intFlag('--tail', o.tail);
  await streamLogs(
    ctx.docker,
    list,
    {
      project: ctx.name,
      follow: o.follow === true,
      tail,
      since: o.since !== undefined ? apiTime(o.since) : undefined,
      until: o.until !== undefined ? apiTime(o.until) : undefined,
      timestamps: o.timestamps,
      color: useColor(g, out.isTTY === true, o.color === false),
      noPrefix: o.logPrefix === false,
    },
    out,
  );
  return 0;
}
