/**
 * `tscompose events`: container events of the project as they happen (docker compose events:
 * --json). Streams until interrupted; one line per event.
 */
import type { Command } from 'commander';

import { PROJECT_LABEL, SERVICE_LABEL } from '../../compose/orchestrator/index.js';
import type { GlobalOptions } from '../options.js';
import { openProject } from './common.js';

/** An Engine API event (`GET /events`), the fields used here. */
export interface ApiEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly time?: number;
  readonly timeNano?: number;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
}

/** Registers `events`. */
export function registerEvents(program: Command, globals: () => GlobalOptions): void {
  program
    .command('events')
    .description('Receive real time events from containers')
    .argument('[service...]', 'services')
    .option('--json', 'Output events as a stream of json objects')
    .action(async (services: string[], o: { json?: boolean }) => {
      process.exitCode = await runEvents(globals(), services, o);
    });
}

/**
 * One event line: docker compose's text (`2026-01-02 03:04:05.000000 container start <id>
 * (image=busybox, name=p-web-1)`) or, with json, `{"time","type","action","id","service","attributes"}`.
 */
export function renderEvent(e: ApiEvent, json: boolean): string {
  const attrs = e.Actor?.Attributes ?? {};
  const id = e.Actor?.ID ?? e.id ?? '';
  const ns = e.timeNano ?? (e.time ?? 0) * 1e9;
  const iso = new Date(Math.floor(ns / 1e6)).toISOString();
  const micros = String(Math.floor((ns % 1e9) / 1e3)).padStart(6, '0');
  const time = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
  if (json) {
    return JSON.stringify({
      time: iso,
      type: 'container',
      action: e.Action ?? '',
      id,
      service: attrs[SERVICE_LABEL] ?? '',
      attributes: attrs,
    });
  }
  const shown = Object.entries(attrs)
    .filter(([k]) => !k.startsWith('com.docker.compose.'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${time} container ${e.Action ?? ''} ${id} (${shown})`;
}

/** Streams `events` until the connection ends. */
export async function runEvents(
  g: GlobalOptions,
  services: readonly string[],
  o: { json?: boolean | undefined },
): Promise<number> {
  const ctx = await openProject(g, { optional: true });
  const stream = await ctx.docker.getEvents({
    filters: { type: ['container'], label: [`${PROJECT_LABEL}=${ctx.name}`] },
  });
  let buf = '';
  await new Promise<void>((resolve) => {
    stream.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line === '') continue;
        const e = JSON.parse(line) as ApiEvent;
        const svc = e.Actor?.Attributes?.[SERVICE_LABEL] ?? '';
        if (services.length > 0 && !services.includes(svc)) continue;
        process.stdout.write(`${renderEvent(e, o.json === true)}\n`);
      }
    });
    stream.on('end', () => resolve());
    stream.on('error', () => resolve());
  });
  return 0;
}
