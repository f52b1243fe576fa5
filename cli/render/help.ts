/**
 * `--help` text in docker compose v2's (cobra/pflag) layout: `Usage:  tscompose up [OPTIONS]
 * [SERVICE...]`, the description, options sorted by name with pflag's value types, commands by name,
 * and the "Run 'tscompose COMMAND --help'" footer. Formats only; registers no command.
 */
import type { Argument, Command, Help, Option } from 'commander';

import { collect } from '../options.js';

/** Argument parts of usage lines that docker compose spells differently from our argument names. */
const USAGE_ARGS: Readonly<Record<string, string>> = {
  exec: 'SERVICE COMMAND [ARGS...]',
  run: 'SERVICE [COMMAND] [ARGS...]',
  top: '[SERVICES...]',
  cp: 'SERVICE:SRC_PATH DEST_PATH|-\n\ttscompose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
};

/** Options whose value docker compose declares as an integer (pflag prints `int`). */
const INT_OPTIONS = new Set(['--index', '--timeout', '--wait-timeout', '--parallel']);

/** `[SERVICE...]` for `[service...]`, `SERVICE` for `<service>`. */
function argumentUsage(a: Argument): string {
  const name = `${a.name().toUpperCase()}${a.variadic ? '...' : ''}`;
  return a.required ? name : `[${name}]`;
}

/** The full command path (`tscompose engine start`). */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The usage line after the command path: `[OPTIONS] [SERVICE...]`, `[OPTIONS] COMMAND`. */
export function usageArgs(cmd: Command, helper: Help): string {
  const parts: string[] = [];
  if (helper.visibleOptions(cmd).some((o) => o.long !== '--help')) parts.push('[OPTIONS]');
  if (helper.visibleCommands(cmd).length > 0) parts.push('COMMAND');
  else {
    const special = cmd.parent?.parent === null ? USAGE_ARGS[cmd.name()] : undefined;
    if (special !== undefined) parts.push(special);
    else parts.push(...cmd.registeredArguments.map(argumentUsage));
  }
  return parts.join(' ');
}

/** pflag's value type name for an option's value: `string`, `stringArray` or `int`. */
function valueType(o: Option): string {
  if (!o.required && !o.optional) return '';
  if (o.parseArg === collect || Array.isArray(o.defaultValue)) return 'stringArray';
  return INT_OPTIONS.has(o.long ?? '') ? 'int' : 'string';
}

/** `  -d, --detach`, `      --wait-timeout int` (pflag's columns). */
export function optionTerm(o: Option): string {
  const type = valueType(o);
  const long = o.long !== undefined ? `${o.long}${type ? ` ${type}` : ''}` : '';
  if (o.short !== undefined) return long ? `${o.short}, ${long}` : o.short;
  return `    ${long}`;
}

/** The description with pflag's ` (default "auto")` suffix. */
function optionDescription(o: Option): string {
  const d = o.description;
  if (o.defaultValue === undefined || o.negate || typeof o.defaultValue === 'boolean') return d;
  if (Array.isArray(o.defaultValue)) return d;
  const shown =
    typeof o.defaultValue === 'number' || valueType(o) === 'int'
      ? String(o.defaultValue)
      : JSON.stringify(
          typeof o.defaultValue === 'string' ? o.defaultValue : JSON.stringify(o.defaultValue),
        );
  return `${d} (default ${o.defaultValueDescription ?? shown})`;
}

/** Two columns: terms padded to the longest plus three spaces, descriptions unwrapped (cobra). */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([t]) => t.length));
  return rows.map(([t, d]) =>
    `  ${t.padEnd(width)}   ${d.replace(/\n/g, `\n  ${' '.repeat(width)}   `)}`.trimEnd(),
  );
}

/**
 * commander `formatHelp` in docker compose's layout (cobra's usage template, docker's hidden
 * `--help`): usage line, description, sorted options, sorted commands, footer for command groups.
 */
export function formatComposeHelp(cmd: Command, helper: Help): string {
  const out: string[] = [];
  const usage = usageArgs(cmd, helper);
  out.push(`Usage:  ${commandPath(cmd)}${usage ? ` ${usage}` : ''}`, '');
  const description = helper.commandDescription(cmd);
  if (description) out.push(description, '');
  const options = helper
    .visibleOptions(cmd)
    .filter((o) => o.long !== '--help')
    .sort((a, b) => (a.long ?? a.short ?? '').localeCompare(b.long ?? b.short ?? ''));
  if (options.length > 0)
    out.push('Options:', ...columns(options.map((o) => [optionTerm(o), optionDescription(o)])), '');
  const commands = helper
    .visibleCommands(cmd)
    .filter((c) => c.name() !== 'help')
    .sort((a, b) => a.name().localeCompare(b.name()));
  if (commands.length > 0) {
    out.push('Commands:', ...columns(commands.map((c) => [c.name(), c.description()])), '');
    out.push(`Run '${commandPath(cmd)} COMMAND --help' for more information on a command.`, '');
  }
  return out.join('\n');
}
