/**
 * `tscompose ls`: the compose projects on the daemon (docker compose ls: -a, -q, --format,
 * --filter name=). Groups labelled containers by project; returns the text.
 */
import type { Command } from 'commander';
import type { ContainerInfo } from 'dockerode';

import { UsageError } from '../../base/errors.js';
import { CONFIG_FILES_LABEL, PROJECT_LABEL } from '../../compose/orchestrator/index.js';
import { dockerClient } from '../client.js';
import { collect, type GlobalOptions } from '../options.js';
import { renderTable } from '../render/format.js';

/** `ls` flags. */
export interface LsFlags {
  readonly all?: boolean;
  readonly quiet?: boolean;
  readonly format?: string;
  readonly filter?: string[];
}

/** One project as `ls --format json` shows it. */
export interface LsRow {
  readonly Name: string;
  readonly Status: string;
  readonly ConfigFiles: string;
}

/** Registers `ls`. */
export function registerLs(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('-q, --quiet', 'Only display project names')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .option('--filter <filter>', 'Filter output based on conditions provided', collect)
    .action(async (o: LsFlags) => {
      process.stdout.write(await runLs(globals(), o));
    });
}

/** Groups containers into projects: status `running(2)` / `exited(1), running(1)`, sorted by name. */
export function lsRows(containers: readonly Pick<ContainerInfo, 'Labels' | 'State'>[]): LsRow[] {
  const by = new Map<string, { states: Map<string, number>; files: Set<string> }>();
  for (const c of containers) {
    const p = c.Labels[PROJECT_LABEL];
    if (p === undefined) continue;
    const e = by.get(p) ?? { states: new Map<string, number>(), files: new Set<string>() };
    e.states.set(c.State, (e.states.get(c.State) ?? 0) + 1);
    const f = c.Labels[CONFIG_FILES_LABEL];
    if (f !== undefined && f !== '') e.files.add(f);
    by.set(p, e);
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, e]) => ({
      Name: name,
      Status: [...e.states.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}(${n})`)
        .join(', '),
      ConfigFiles: [...e.files].join(','),
    }));
}

/** Computes `ls`'s output. */
export async function runLs(g: GlobalOptions, o: LsFlags): Promise<string> {
  let nameFilter: string | undefined;
  for (const f of o.filter ?? []) {
    const m = /^name=(.*)$/.exec(f);
    if (!m)
      throw new UsageError(`invalid filter ${JSON.stringify(f)}`, {
        hint: 'supported filters: name',
      });
    nameFilter = m[1];
  }
  const docker = await dockerClient(g);
  const list = await docker.listContainers({
    all: o.all === true,
    filters: { label: [PROJECT_LABEL] },
  });
  const rows = lsRows(list).filter((r) => nameFilter === undefined || r.Name.includes(nameFilter));
  if (o.quiet === true) return rows.map((r) => `${r.Name}\n`).join('');
  if (o.format === 'json') return `${JSON.stringify(rows)}\n`;
  if (o.format !== undefined && o.format !== 'table')
    throw new UsageError(`unsupported format ${JSON.stringify(o.format)}`);
  return renderTable(
    ['NAME', 'STATUS', 'CONFIG FILES'],
    rows.map((r) => [r.Name, r.Status, r.ConfigFiles]),
  );
}
