/**
 * `tscompose config [SERVICE...]`: parse, resolve and render the compose file in canonical format,
 * like `docker compose config` (flags: --format, --services, --volumes, --networks, --profiles,
 * --images, -q, --no-interpolate, --no-normalize, --hash, -o). Returns the text to print; writes
 * only with -o. Must not talk to an engine.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Command } from 'commander';
import type Picomatch from 'picomatch';

import { TscError, UsageError } from '../../base/errors.js';
import { lazy } from '../../base/lazy.js';
import { serviceConfigHash } from '../../compose/hash.js';
import { loadProject } from '../../compose/index.js';
import type { Project, Service } from '../../compose/model.js';
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
    .argument(
      '[service...]',
      'Restrict the rendered project to these services and their dependencies',
    )
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
    .action((services: string[], opts: ConfigOptions) => {
      const text = runConfig(globals(), opts, services);
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

/**
 * Computes `config`'s output for these flags and `services` (`config [SERVICE...]`), as docker
 * compose v2 does (cmd/compose/config.go, compose-go `WithServicesEnabled`,
 * `WithSelectedServices`, `WithoutUnnecessaryResources`):
 * - a named service outside the active profiles is enabled (its profiles are activated);
 * - the project keeps the named services (shell patterns such as `we*` match names) and,
 *   transitively, what they `depends_on`; a missing dependency with `required: false` is dropped;
 * - then networks, volumes, secrets, configs and models no kept service uses are dropped;
 * - `--images` lists the kept services; `--profiles` checks the names, then lists every profile;
 *   `--services`, `--volumes`, `--networks` and `--hash` ignore the names (docker compose passes
 *   none to them); `--no-interpolate` warns and renders the whole model.
 * @throws TscError TSC_COMPOSE_REFERENCE `no such service: NAME` (exit 1) for a name that matches
 *   no service; UsageError for a bad --format; ComposeError for a bad project
 */
export function runConfig(
  g: GlobalOptions,
  opts: ConfigOptions,
  services: readonly string[] = [],
): string {
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
  const ignoresNames = Boolean(
    opts.services || opts.volumes || opts.networks || opts.hash !== undefined,
  );
  let names = ignoresNames ? [] : services;
  if (names.length > 0 && opts.interpolate === false) {
    process.stderr.write(
      'WARN[0000] service filtering is not applied when --no-interpolate is set, the full model will be rendered\n',
    );
    names = [];
  }
  const load = (profiles?: readonly string[]): ReturnType<typeof loadProject> =>
    loadProject(
      toLoadOptions(g, {
        interpolate: opts.interpolate !== false,
        normalize: opts.normalize !== false,
        ...(opts.normalize === false ? { consistency: false } : {}),
        ...(listing ? { consistency: false } : {}),
        ...(opts.profiles ? { profiles: ['*'] } : profiles ? { profiles } : {}),
      }),
    );
  let loaded = load();
  if (names.length > 0 && !opts.profiles) {
    const extra = profilesToEnable(
      g,
      loaded,
      names,
      () => loadProject(toLoadOptions(g, { consistency: false, profiles: ['*'] })).project,
    );
    if (extra !== undefined) loaded = load(extra);
  }
  const { graph } = loaded;
  const project = names.length > 0 ? selectProject(loaded.project, names) : loaded.project;
  const order = graph.startOrder.filter((n) => project.services[n] !== undefined);
  if (opts.quiet) return '';
  // Services in dependency order (docker compose walks them so), ties by name; resources sorted.
  if (opts.services) return lines(order);
  if (opts.volumes) return lines(Object.keys(project.volumes ?? {}).sort());
  if (opts.networks) return lines(Object.keys(project.networks ?? {}).sort());
  // docker compose lists the profiles of every service, the ones the names leave out included
  if (opts.profiles) return lines(profilesOf(loaded.project));
  if (opts.images) {
    return lines(order.map((n) => imageOf(project, n, project.services[n]?.image)));
  }
  if (opts.hash !== undefined) return renderHashes(project, opts.hash, order);
  // Without interpolation `$` is still the user's own text: print it as written.
  return renderConfig(project, { format, escapeDollar: opts.interpolate !== false });
}

/**
 * The profiles to load with so that every service named (not a pattern) is enabled, like
 * compose-go `WithServicesEnabled`: the active ones plus the profiles of named services that the
 * active ones leave out; undefined when nothing needs enabling.
 */
function profilesToEnable(
  g: GlobalOptions,
  loaded: ReturnType<typeof loadProject>,
  names: readonly string[],
  everything: () => Project,
): string[] | undefined {
  const missing = names.filter((n) => loaded.project.services[n] === undefined);
  if (missing.length === 0) return undefined;
  const all = everything();
  const extra = missing.flatMap((n) => all.services[n]?.profiles ?? []);
  if (extra.length === 0) return undefined;
  const given = (g.profile ?? []).filter((p) => p !== '');
  const active =
    given.length > 0
      ? given
      : (loaded.env.get('COMPOSE_PROFILES') ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
  return [...new Set([...active, ...extra])];
}

/**
 * The project restricted to the services `names` match (exact names or shell patterns: `*`, `?`,
 * `[...]`) and, transitively, their `depends_on` (compose-go `WithSelectedServices` with
 * `IncludeDependencies`), without the networks, volumes, secrets, configs and models that no kept
 * service uses (compose-go `WithoutUnnecessaryResources`).
 * @throws TscError TSC_COMPOSE_REFERENCE `no such service: NAME` for a name that matches nothing,
 *   or a required dependency that is not in the project
 */
export function selectProject(project: Project, names: readonly string[]): Project {
  const keep = new Set<string>();
  const visit = (name: string): void => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const [dep, d] of Object.entries(project.services[name]?.depends_on ?? {})) {
      if (project.services[dep] !== undefined) visit(dep);
      else if (d.required) throw new TscError('TSC_COMPOSE_REFERENCE', `no such service: ${dep}`);
    }
  };
  for (const name of names) {
    const matched = Object.keys(project.services).filter((s) => matchesPattern(name, s));
    if (matched.length === 0) {
      throw new TscError('TSC_COMPOSE_REFERENCE', `no such service: ${name}`);
    }
    for (const m of matched) visit(m);
  }
  const services: Record<string, Service> = {};
  for (const [name, s] of Object.entries(project.services)) {
    if (!keep.has(name)) continue;
    const deps = s.depends_on;
    const kept =
      deps === undefined
        ? undefined
        : Object.fromEntries(Object.entries(deps).filter(([d]) => keep.has(d)));
    services[name] =
      deps === undefined || Object.keys(kept ?? {}).length === Object.keys(deps).length
        ? s
        : { ...s, depends_on: kept ?? {} };
  }
  const used = usedResources(Object.values(services));
  const out: Record<string, unknown> = { ...project, services };
  for (const kind of ['networks', 'volumes', 'secrets', 'configs', 'models'] as const) {
    const all = project[kind];
    if (all === undefined) continue;
    out[kind] = Object.fromEntries(Object.entries(all).filter(([k]) => used[kind].has(k)));
  }
  return out as unknown as Project;
}

/** Top-level resource keys the services use, per kind (compose-go `WithoutUnnecessaryResources`). */
function usedResources(
  services: readonly Service[],
): Record<'networks' | 'volumes' | 'secrets' | 'configs' | 'models', Set<string>> {
  const used = {
    networks: new Set<string>(),
    volumes: new Set<string>(),
    secrets: new Set<string>(),
    configs: new Set<string>(),
    models: new Set<string>(),
  };
  for (const s of services) {
    for (const n of Object.keys(s.networks ?? {})) used.networks.add(n);
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source !== undefined && v.source !== '') {
        used.volumes.add(v.source);
      }
    }
    for (const x of [...(s.secrets ?? []), ...(s.build?.secrets ?? [])]) used.secrets.add(x.source);
    for (const x of s.configs ?? []) used.configs.add(x.source);
    // Service-level `models` (a list or a map of keys) is not typed in the model: read it loosely.
    const models = (s as unknown as Readonly<Record<string, unknown>>).models;
    const keys = Array.isArray(models)
      ? models
      : typeof models === 'object' && models !== null
        ? Object.keys(models)
        : [];
    for (const m of keys) if (typeof m === 'string') used.models.add(m);
  }
  return used;
}

/** picomatch, loaded on the first pattern (most `config` runs name no service). */
const picomatch = lazy(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require inside a function is bundled but run on first use
  () => require('picomatch') as typeof Picomatch,
);

/**
 * Shell pattern match of a whole service name, as Go's `path/filepath.Match` (which compose-go
 * uses for service names): `*` any run, `?` one character, `[...]` / `[^...]` a class, `\\`
 * escapes; through picomatch with its extensions off (no `!` negation, braces or extglobs; `*`
 * matches a leading dot). A malformed pattern matches nothing but itself.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  try {
    return picomatch().isMatch(name, pattern, {
      nonegate: true,
      nobrace: true,
      noextglob: true,
      dot: true,
    });
  } catch {
    return false;
  }
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
