/**
 * `tscompose engine start|stop|status|logs`: manage tscompose's engine daemon (engine/daemon-control).
 * Each subcommand returns its text.
 */
import type { Command } from 'commander';

import { loadEngineConfig } from '../../engine/config.js';
import {
  engineStart,
  engineStatus,
  engineStop,
  readEngineLog,
} from '../../engine/daemon-control.js';
import { intFlag } from './common.js';

/** Registers `engine` and its subcommands. */
export function registerEngine(program: Command): void {
  const engine = program
    .command('engine')
    .description("Manage tscompose's container engine daemon");
  const cfg = (o: { config?: string }): Parameters<typeof engineStatus>[0] => ({
    config: loadEngineConfig(o.config),
    ...(o.config !== undefined ? { configPath: o.config } : {}),
  });
  engine
    .command('start')
    .description('Start the engine daemon in the background')
    .option('--config <path>', 'Engine configuration file')
    .action(async (o: { config?: string }) => {
      const r = await engineStart(cfg(o));
      process.stdout.write(
        r.alreadyRunning
          ? `engine already running (pid ${r.pid})\n`
          : `engine started (pid ${r.pid})\n`,
      );
    });
  engine
    .command('stop')
    .description('Stop the engine daemon')
    .option('--config <path>', 'Engine configuration file')
    .action(async (o: { config?: string }) => {
      const pid = await engineStop(cfg(o));
      process.stdout.write(
        pid === undefined ? 'engine not running\n' : `engine stopped (pid ${pid})\n`,
      );
    });
  engine
    .command('status')
    .description('Show whether the engine daemon runs')
    .option('--config <path>', 'Engine configuration file')
    .option('--format <format>', 'Format the output. Values: [text | json]', 'text')
    .action(async (o: { config?: string; format?: string }) => {
      const s = await engineStatus(cfg(o));
      if (o.format === 'json') process.stdout.write(`${JSON.stringify(s)}\n`);
      else {
        process.stdout.write(
          s.running
            ? `engine running (pid ${s.pid ?? '?'}, API ${s.apiVersion ?? '?'}) on ${s.socket}\n`
            : `engine not running (socket ${s.socket})\n`,
        );
      }
      if (!s.running) process.exitCode = 1;
    });
  engine
    .command('logs')
    .description("Print the engine daemon's log")
    .option('--config <path>', 'Engine configuration file')
    .option('-n, --tail <n>', 'Number of lines to show from the end')
    .action(async (o: { config?: string; tail?: string }) => {
      process.stdout.write(await readEngineLog(cfg(o), intFlag('--tail', o.tail)));
    });
}
