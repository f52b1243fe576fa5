/**
 * `tscompose ps`: list the project's containers (docker compose ps: -a, -q, --services, --status,
 * --format table|json|template, --filter status=). Builds docker compose's ps JSON objects and
 * renders them; returns the text.
 */
import type { Command } from 'commander';
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';

import { UsageError } from '../../base/errors.js';
import { PROJECT_LABEL, SERVICE_LABEL } from '../../compose/orchestrator/index.js';
import { collect, type GlobalOptions } from '../options.js';
import { formatPorts, formatRows, humanDuration } from '../render/format.js';
import { checkServices, containerName, openProject, projectContainers } from './common.js';

/** `ps` flags. */
export interface PsFlags {
  readonly all?: boolean;
  readonly quiet?: boolean;
  readonly services?: boolean;
  readonly status?: string[];
  readonly filter?: string[];
  readonly format?: string;
}

/** A published port as docker compose's ps JSON shows it. */
export interface PsPublisher {
  readonly URL: string;
  readonly TargetPort: number;
  readonly PublishedPort: number;
  readonly Protocol: string;
}

/** One row of `ps --format json` (docker compose v2 field names). */
export interface PsRow {
  readonly ID: string;
  readonly Name: string;
  readonly Names: string;
  readonly Image: string;
  readonly Command: string;
  readonly Project: string;
  readonly Service: string;
  readonly Created: number;
  readonly CreatedAt: string;
  readonly RunningFor: string;
  readonly State: string;
  readonly Status: string;
  readonly Health: string;
  readonly ExitCode: number;
  readonly Labels: string;
  readonly LocalVolumes: string;
  readonly Mounts: string;
  readonly Networks: string;
  readonly Ports: string;
  readonly Publishers: PsPublisher[];
  readonly Size: string;
}

/** The states `--status` accepts. */
export const PS_STATES = [
  'paused',
  'restarting',
  'removing',
  'running',
  'dead',
  'created',
  'exited',
];

/** Registers `ps`. */
export function registerPs(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ps')
    .description('List containers')
    .argument('[service...]', 'services')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option(
      '--status <status>',
      'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]',
      collect,
    )
    .option(
      '--filter <filter>',
      'Filter services by a property (supported filters: status)',
      collect,
    )
    .option(
      '--format <format>',
      "Format output using a custom template: 'table', 'json' or a Go template",
      'table',
    )
    .action(async (services: string[], o: PsFlags) => {
      process.stdout.write(await runPs(globals(), services, o));
    });
}

/** `docker ps`-style command text: `"sh -c 'sleep 1'"` quoted, cut at 20 chars with `…`. */
export function psCommand(command: string): string {
  const cut = command.length > 20 ? `${command.slice(0, 19)}…` : command;
  return `"${cut}"`;
}

/** The docker time format used in CreatedAt: `2026-11-29 18:02:33 +0000 UTC`. */
export function dockerTime(unixS: number): string {
  const iso = new Date(unixS * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/** Builds a ps row from the list entry and its inspect data (for ExitCode and Health). */
export function psRow(
  c: ContainerInfo,
  inspect: Pick<ContainerInspectInfo, 'State'> | undefined,
  nowMs = Date.now(),
): PsRow {
  const name = containerName(c);
  const labels = c.Labels ?? {};
  const state = c.State;
  return {
    ID: c.Id,
    Name: name,
    Names: name,
    Image: c.Image,
    Command: psCommand(c.Command),
    Project: labels[PROJECT_LABEL] ?? '',
    Service: labels[SERVICE_LABEL] ?? '',
    Created: c.Created,
    CreatedAt: dockerTime(c.Created),
    RunningFor: `${humanDuration(nowMs - c.Created * 1000)} ago`,
    State: state,
    Status: c.Status,
    Health: inspect?.State.Health?.Status ?? '',
    ExitCode: inspect?.State.ExitCode ?? 0,
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    Mounts: (c.Mounts ?? []).map((m) => m.Name ?? m.Source).join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Ports: formatPorts(c.Ports ?? []),
    Publishers: (c.Ports ?? []).map((p) => ({
      URL: p.IP ?? '',
      TargetPort: p.PrivatePort,
      PublishedPort: p.PublicPort ?? 0,
      Protocol: p.Type,
    })),
    Size: '0B',
  };
}

/** Renders rows for `--format` (table: NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS). */
export function renderPs(rows: readonly PsRow[], format: string): string {
  return formatRows(format, rows, {
    headers: ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
    cells: (r) => [r.Name, r.Image, r.Command, r.Service, r.RunningFor, r.Status, r.Ports],
  });
}

/** The `--status` / `--filter status=` values, validated. */
export function statusFilter(o: Pick<PsFlags, 'status' | 'filter'>): string[] {
  const out = [...(o.status ?? [])];
  for (const f of o.filter ?? []) {
    const m = /^status=(.+)$/.exec(f);
    if (!m?.[1])
      throw new UsageError(`invalid filter ${JSON.stringify(f)}`, {
        hint: 'supported filters: status',
      });
    out.push(m[1]);
  }
  for (const s of out) {
    if (!PS_STATES.includes(s)) throw new UsageError(`invalid status: ${s}`);
  }
  return out;
}

/** Computes `ps`'s output. */
export async function runPs(
  g: GlobalOptions,
  services: readonly string[],
  o: PsFlags,
): Promise<string> {
  const states = statusFilter(o);
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  let list = await projectContainers(ctx, { all: o.all === true || states.length > 0, services });
  if (states.length > 0) list = list.filter((c) => states.includes(c.State));
  if (o.services === true) {
    const names = [...new Set(list.map((c) => c.Labels[SERVICE_LABEL] ?? ''))].sort();
    return names.map((n) => `${n}\n`).join('');
  }
  if (o.quiet === true) return list.map((c) => `${c.Id}\n`).join('');
  const inspected = await Promise.all(
    list.map((c) =>
      ctx.docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => undefined),
    ),
  );
  const rows = list.map((c, i) => psRow(c, inspected[i]));
  return renderPs(rows, o.format ?? 'table');
}
