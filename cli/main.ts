#!/usr/bin/env -S node --
/**
 * The `tscompose` command: argv -> command -> output, with docker compose's global flags.
 * Renders errors (cli/render/error.ts) and sets the exit code; nothing below cli/ prints.
 */
import { Command, CommanderError } from 'commander';

import { UsageError } from '../base/errors.js';
import { registerConfig } from './commands/config.js';
import { registerCp } from './commands/cp.js';
import { registerDown } from './commands/down.js';
import { registerEngine } from './commands/engine.js';
import { registerEvents } from './commands/events.js';
import { registerImages } from './commands/images.js';
import { registerLs } from './commands/ls.js';
import { registerPort } from './commands/port.js';
import { registerTop } from './commands/top.js';
import { registerExec } from './commands/exec.js';
import { registerRun } from './commands/run.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerLogs } from './commands/logs.js';
import { registerPs } from './commands/ps.js';
import { registerUp } from './commands/up.js';
import { asEngineError } from './client.js';
import { checkGlobalOptions, collect, type GlobalOptions } from './options.js';
import { renderError } from './render/error.js';
import { formatComposeHelp } from './render/help.js';

/** tscompose's version (package.json). */
export const VERSION = '0.1.0';

/** Builds the commander program with every command registered. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tscompose')
    .description('Define and run multi-container applications with tscompose')
    // the same line as `tscompose version` (docker compose prints one text for both)
    .version(
      `tscompose version v${VERSION}`,
      '-v, --version',
      'Show the tscompose version information',
    )
    .option('-f, --file <path>', 'Compose configuration files', collect)
    .option('-p, --project-name <name>', 'Project name')
    .option(
      '--project-directory <path>',
      'Specify an alternate working directory (default: the path of the, first specified, Compose file)',
    )
    .option('--env-file <path>', 'Specify an alternate environment file', collect)
    .option('--profile <profile>', 'Specify a profile to enable', collect)
    .option(
      '--progress <mode>',
      'Set type of progress output (auto, tty, plain, json, quiet)',
      'auto',
    )
    .option(
      '--ansi <when>',
      'Control when to print ANSI control characters ("never"|"always"|"auto")',
      'auto',
    )
    .option('--parallel <n>', 'Control max parallelism, -1 for unlimited (default -1)')
    .option('-H, --host <url>', 'Daemon socket to connect to')
    .enablePositionalOptions()
    .configureHelp({ formatHelp: formatComposeHelp })
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  // every command: a bad global flag is refused before the command does anything
  program.hook('preAction', () => checkGlobalOptions(globals()));
  registerConfig(program, globals);
  registerUp(program, globals);
  registerDown(program, globals);
  registerPs(program, globals);
  registerLogs(program, globals);
  registerLifecycle(program, globals);
  registerExec(program, globals);
  registerRun(program, globals);
  registerImages(program, globals);
  registerPort(program, globals);
  registerTop(program, globals);
  registerLs(program, globals);
  registerEvents(program, globals);
  registerCp(program, globals);
  registerEngine(program);
  program
    .command('version')
    .description('Show the tscompose version information')
    .option('--short', 'Shows only the version number')
    .action((o: { short?: boolean }) => {
      process.stdout.write(o.short ? `${VERSION}\n` : `tscompose version v${VERSION}\n`);
    });
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    // `docker compose` alone prints its help on stdout and exits 0
    process.stdout.write(program.helpInformation());
    return 0;
  }
  try {
    process.exitCode = undefined;
    await program.parseAsync([...argv], { from: 'user' });
    // commands that end with a non-zero status (up --exit-code-from, exec, run) set exitCode
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // `tscompose` alone prints the help and exits 0, as docker compose does.
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version' ||
        e.exitCode === 0
      )
        return 0;
      const { text } = renderError(new UsageError(e.message.replace(/^error: /, '')));
      process.stderr.write(`${text}\n`);
      return 2;
    }
    const { text, exitCode } = renderError(asEngineError(e));
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // open API sockets or a finished log stream must not keep the command alive
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
