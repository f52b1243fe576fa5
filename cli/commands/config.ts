/**
 * `tscompose config`: parse, resolve and render the compose file in canonical format, like
 * `docker compose config` (flags: --format, --services, --volumes, --networks, --profiles,
 * --images, -q, --no-interpolate, --no-normalize, --hash, -o). Returns the text to print; writes only with -o.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import { UsageError } from '../../base/errors.js';
import { serviceConfigHash } from '../../compose/hash.js';
import { loadProject } from '../../compose/index.js';
import type { Project } from '../../compose/model.js';
import { renderConfig } from '../../compose/render.js';
import { toLoadOptions, type GlobalOptions } from '../options.js';

/** `config` flags. */
export interface ConfigOptions {
  readonly format?: string;
  readonly services?: boolean;
  readonly volumes?: boolean;
  readonly networks?: boolean;
  readonly profiles?: boolean;
  readonly images?: boolean;
  readonly quiet?: boolean;
  readonly interpolate?: boolean;
  readonly normalize?: boolean;
  readonly hash?: string;
  readonly output?: string;
}

/** Registers `config` on the program. */
export function registerConfig(program: Command, globals: () => GlobalOptions): void {
  program
    .command('config')
    .description('Parse, resolve and render compose file in canonical format')
    .option('--format <format>', 'Format the output. Values: [yaml | json]', 'yaml')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--networks', 'Print the network names, one per line')
    .option('--profiles', 'Print the profile names, one per line')
    .option('--images', 'Print the image names, one per line')
    .option('-q, --quiet', "Only validate the configuration, don't print anything")
    .option('--no-interpolate', "Don't interpolate environment variables")
    .option('--no-normalize', "Don't normalize compose model")
    .option('--hash <service>', 'Print the service config hash, one per line ("*" for all)')
    .option('-o, --output <path>', 'Save to file (default to stdout)')
    .action((opts: ConfigOptions) => {
      const text = runConfig(globals(), opts);
      if (opts.output) writeOutput(resolve(opts.output), text);
      else process.stdout.write(text);
    });
}

/** Writes `-o` output; a missing directory or a directory as target is a usage error. */
function writeOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UsageError(`write ${path}: ${code}`, {
      hint: 'name a file in an existing directory',
    });
  }
}

/** Computes `config`'s output for these flags. */
export function runConfig(g: GlobalOptions, opts: ConfigOptions): string {
  const format = opts.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') {
    throw new UsageError(`unsupported format ${JSON.stringify(format)}`, {
      hint: 'use --format yaml or --format json',
    });
  }
  // Listing names needs no cross-reference checks: `config --services` works on a project whose
  // services would clash when run together (e.g. profiles that share a container_name).
  const listing = Boolean(
    opts.services || opts.volumes || opts.networks || opts.profiles || opts.images,
  );
  const { project, graph } = loadProject(
    toLoadOptions(g, {
      interpolate: opts.interpolate !== false,
      normalize: opts.normalize !== false,
      ...(opts.normalize === false ? { consistency: false } : {}),
      ...(listing ? { consistency: false } : {}),
      ...(opts.profiles ? { profiles: ['*'] } : {}),
    }),
  );
  if (opts.quiet) return '';
  // Services in dependency order (docker compose walks them so), ties by name; resources sorted.
  if (opts.services) return lines(graph.startOrder);
  if (opts.volumes) return lines(Object.keys(project.volumes ?? {}).sort());
  if (opts.networks) return lines(Object.keys(project.networks ?? {}).sort());
  if (opts.profiles) return lines(profilesOf(project));
  if (opts.images) {
    return lines(graph.startOrder.map((n) => imageOf(project, n, project.services[n]?.image)));
  }
  if (opts.hash !== undefined) return renderHashes(project, opts.hash, graph.startOrder);
  // Without interpolation `$` is still the user's own text: print it as written.
  return renderConfig(project, { format, escapeDollar: opts.interpolate !== false });
}

function lines(xs: readonly string[]): string {
  return xs.map((x) => `${x}\n`).join('');
}

function profilesOf(p: Project): string[] {
  const all = new Set<string>();
  for (const s of Object.values(p.services)) for (const x of s.profiles ?? []) all.add(x);
  return [...all].sort();
}

/** The image a service runs: its `image`, else docker compose's default `<project>-<service>`. */
export function imageOf(p: Project, service: string, image: string | undefined): string {
  return image ?? `${p.name}-${service}`;
}

function renderHashes(p: Project, which: string, order: readonly string[]): string {
  const names = which === '*' ? order : which.split(',').map((s) => s.trim());
  return lines(
    names.map((n) => {
      const s = p.services[n];
      if (!s) throw new UsageError(`no such service: ${n}`);
      return `${n} ${serviceConfigHash(s)}`;
    }),
  );
}
