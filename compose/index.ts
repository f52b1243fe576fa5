/**
 * The loader pipeline: files + environment -> a frozen, validated Project. The phases run in the
 * order docs/loader.md lists (keep the two in step). The only export other layers use.
 * Reads files; writes nothing; never reads process.env (the caller passes the environment).
 */
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';

import { ComposeError, type ComposeIssue } from '../base/errors.js';
import { canonicalize } from './canonical.js';
import { resolveExtends } from './extends.js';
import { buildGraph, type ServiceGraph } from './graph.js';
import { interpolateTree, type InterpolationWarning } from './interpolate.js';
import { enforceUnicity, mergeTrees } from './merge.js';
import type { Project } from './model.js';
import { normalizeProject } from './normalize.js';
import { parseComposeYaml, type ParsedFile } from './parse.js';
import { resolveRelativePaths } from './paths.js';
import {
  formatPath,
  isRawMap,
  pathKey,
  type PathSegment,
  type PositionIndex,
  type RawMap,
  type RawValue,
  type TreePath,
} from './raw.js';
import { validateSchema, type SchemaIssue } from './schema/index.js';
import {
  checkProjectName,
  projectNameFromDir,
  readFileUtf8,
  resolveSources,
  type FileReader,
  type SourceOptions,
} from './sources.js';
import { parseDotenv } from './dotenv.js';
import { validateProject } from './validate.js';

export type { Project } from './model.js';
export type { ServiceGraph } from './graph.js';

/**
 * Resolves references that are not local paths (`extends.file`, `include.path`), e.g. a git or
 * OCI reference fetched into a local cache (compose-go `ResourceLoader`).
 */
export interface ResourceLoader {
  /** True when this loader handles the reference. */
  accepts(reference: string): boolean;
  /** The absolute local path of the referenced file. @throws TscError when it cannot be had */
  load(reference: string): string;
}

/** Everything that decides what `loadProject` loads. */
export interface LoadOptions extends SourceOptions {
  /** `-p`: the project name (checked against compose's rule). */
  readonly projectName?: string | undefined;
  /** `--profile` (plus COMPOSE_PROFILES from the environment when empty). `*` enables all. */
  readonly profiles?: readonly string[] | undefined;
  /** Reads stdin for `-f -`. */
  readonly readStdin?: (() => string) | undefined;
  /** File reader seam (tests); defaults to fs. */
  readonly readFile?: FileReader | undefined;
  /** False for `config --no-interpolate`: `${...}` stays as written. Default true. */
  readonly interpolate?: boolean | undefined;
  /** Receives each warning line, already rendered like docker compose (`WARN[0000] ...`). */
  readonly onWarning?: ((line: string) => void) | undefined;
  /**
   * False for `config --no-consistency`: skip the semantic checks (unknown references, missing
   * image). Default true.
   */
  readonly consistency?: boolean | undefined;
  /** False for `config --no-normalize`: no default network, resource names or defaults. */
  readonly normalize?: boolean | undefined;
  /** Home directory for `~` in paths; defaults to os.homedir(). */
  readonly homeDir?: string | undefined;
  /** Loaders for non-local `extends.file` / `include` references, tried in order. */
  readonly resourceLoaders?: readonly ResourceLoader[] | undefined;
}

/** A loaded project with what it was loaded from. */
export interface LoadedProject {
  /** The frozen, normalised project. */
  readonly project: Project;
  /** The dependency graph of its services. */
  readonly graph: ServiceGraph;
  /** The compose files loaded, in order (absolute, or `-`). */
  readonly files: readonly string[];
  /** The absolute project directory. */
  readonly workingDir: string;
  /** The project environment used for interpolation. */
  readonly env: ReadonlyMap<string, string>;
  /**
   * The env files that environment was read from, absolute, in order: `--env-file`…, else
   * `COMPOSE_ENV_FILES`, else `<project dir>/.env` when it exists (none when none was read).
   */
  readonly envFiles: readonly string[];
}

/**
 * Loads a compose project exactly as docker compose v2 would (`docker compose config`).
 * Phases (docs/loader.md): sources -> parse -> project name -> interpolate -> schema ->
 * extends -> include -> merge -> canonicalise -> relative paths -> normalise (defaults, profiles,
 * env_file) -> semantic checks -> graph -> freeze.
 * @throws ComposeError with file:line:col and key path for every kind of bad input (codes
 *   TSC_COMPOSE_*); TscError TSC_COMPOSE_READ for unreadable files.
 */
export function loadProject(o: LoadOptions): LoadedProject {
  const read = o.readFile ?? readFileUtf8;
  const sources = resolveSources(o, read);
  const env = new Map(sources.env);
  const homeDir = o.homeDir ?? homedir();
  const warn = warningSink(o.onWarning);

  const parsed = sources.files.map((f) => {
    const file = parseComposeYaml(f === '-' ? (o.readStdin?.() ?? '') : read(f), f);
    if (Object.keys(file.tree).length === 0) {
      throw ComposeError.at('TSC_COMPOSE_PARSE', { file: f, path: '' }, 'empty compose file');
    }
    if (file.tree.version !== undefined) {
      o.onWarning?.(
        `WARN[0000] ${f}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`,
      );
    }
    return file;
  });

  const name = decideProjectName(o, parsed, env, sources.workingDir);
  if (!env.has('COMPOSE_PROJECT_NAME')) env.set('COMPOSE_PROJECT_NAME', name);
  const lookup = (k: string): string | undefined => env.get(k);

  const loaders = o.resourceLoaders ?? [];
  const resolveFile = (file: string, fromDir: string): string =>
    loaders.find((l) => l.accepts(file))?.load(file) ?? resolve(fromDir, file);
  const ctx: FileContext = {
    read,
    lookup,
    warn,
    interpolate: o.interpolate !== false,
    homeDir,
    resolveFile,
    workingDir: sources.workingDir,
  };
  const trees = parsed.map((p) => loadFileTree(p, ctx, new Set()));
  // Where a merged-tree path may be written, lowest priority first (docs/loader.md: the last -f
  // file that has it; then the services it extends; then the files it includes).
  const origins = trees.flatMap((t) => t.origins);
  const fallback = trees[0]?.origins.at(-1);

  let merged: RawMap = trees[0]?.tree ?? {};
  for (let i = 1; i < trees.length; i++) {
    const next = trees[i];
    if (next) merged = mergeTrees(merged, next.tree, next.parsed);
  }
  // compose-go de-duplicates after loading every file, a single one included, and validates the
  // merged model (an override file alone may be partial).
  merged = enforceUnicity(merged, []) as RawMap;
  checkSchema(merged, origins, fallback);
  merged = { ...merged, name };

  // Later phases name key paths without a file; `located` points them at the defining line.
  const located = <T>(phase: () => T, tree?: RawMap): T => relocate(phase, origins, fallback, tree);
  const canonicalInput = merged;
  const canonical = located(() => canonicalize(canonicalInput), canonicalInput);
  const withPaths = resolveRelativePaths(canonical, sources.workingDir, homeDir);
  const profiles = activeProfiles(o, env);
  const project = located(() =>
    normalizeProject(withPaths, {
      projectName: name,
      workingDir: sources.workingDir,
      env,
      readEnvFile: (p) => (isReadable(read, p) ? read(p) : undefined),
      homeDir,
      activeProfiles: profiles,
      skipNormalization: o.normalize === false,
    }),
  );

  const issues = o.consistency === false ? [] : validateProject(project);
  if (issues.length > 0) {
    throw new ComposeError(
      'TSC_COMPOSE_INVALID',
      locateImplicit(issues, project, origins, fallback),
    );
  }
  const graph = (() => {
    try {
      return buildGraph(project, { skipUnknown: o.consistency === false });
    } catch (e) {
      if (!(e instanceof ComposeError)) throw e;
      const found = e.issues.map((i) => ({ path: parsePath(i.path), detail: i.detail }));
      throw new ComposeError(e.code, locateImplicit(found, project, origins, fallback), {
        hint: e.hint,
      });
    }
  })();
  return {
    project,
    graph,
    files: sources.files,
    workingDir: sources.workingDir,
    env,
    envFiles: sources.envFiles,
  };
}

interface FileContext {
  readonly read: FileReader;
  readonly lookup: (k: string) => string | undefined;
  readonly warn: (w: InterpolationWarning) => void;
  readonly interpolate: boolean;
  readonly homeDir: string;
  readonly resolveFile: (file: string, fromDir: string) => string;
  /** The (sub)project's directory: relative `extends.file` values resolve against it. */
  readonly workingDir: string;
}

interface LoadedFile {
  readonly parsed: ParsedFile;
  readonly tree: RawMap;
  /** Where its paths are written: included files, extended services, itself last. */
  readonly origins: readonly Origin[];
}

/**
 * One place a path of the loaded (merged) tree may be written, for error positions: a file's
 * tree as parsed and interpolated (before extends, include and merge), and how a loaded-tree
 * path maps into it (a service taken by `extends` has another name there).
 */
interface Origin {
  readonly file: string;
  readonly positions: PositionIndex;
  readonly tree: RawMap;
  readonly map?: ((path: TreePath) => TreePath | undefined) | undefined;
}

/** Per-file phases: interpolate, schema, extends, include. */
function loadFileTree(parsed: ParsedFile, ctx: FileContext, including: Set<string>): LoadedFile {
  const interpolated = ctx.interpolate
    ? interpolateTree(parsed, ctx.lookup, ctx.warn)
    : parsed.tree;
  // A file reached through `extends.file` is not validated as a whole (compose-go): only the
  // service taken from it ends up in the model, and that is checked with the rest.
  const selfFile = parsed.file === '-' ? resolve('stdin') : parsed.file;
  const others = new Map<string, ParsedFile>([
    [selfFile, { ...parsed, file: parsed.file, tree: interpolated }],
  ]);
  const loadOther = (absPath: string): ParsedFile => {
    const other = parseComposeYaml(ctx.read(absPath), absPath);
    const tree = ctx.interpolate ? interpolateTree(other, ctx.lookup, ctx.warn) : other.tree;
    const loaded = { ...other, tree };
    others.set(absPath, loaded);
    return loaded;
  };
  const bases = new Map<string, { file: string; service: string }>();
  const extended = resolveExtends(interpolated, {
    file: selfFile,
    load: loadOther,
    tags: parsed,
    positions: parsed.positions,
    resolveFile: ctx.resolveFile,
    baseDir: ctx.workingDir,
    onExtends: (file, service, base) => bases.set(`${file}#${service}`, base),
  });
  const { tree, origins: included } = applyIncludes(extended, parsed, ctx, including);
  const self: Origin = { file: parsed.file, positions: parsed.positions, tree: interpolated };
  return { parsed, tree, origins: [...included, ...extendsOrigins(selfFile, bases, others), self] };
}

/**
 * The origins of services taken by `extends`: for service `a` of this file extending `b` (of this
 * or another file), `services.a.<rest>` is written at `services.b.<rest>` there; chains followed,
 * nearest base last (highest priority).
 */
function extendsOrigins(
  selfFile: string,
  bases: ReadonlyMap<string, { file: string; service: string }>,
  files: ReadonlyMap<string, ParsedFile>,
): Origin[] {
  const out: Origin[] = [];
  for (const key of bases.keys()) {
    if (!key.startsWith(`${selfFile}#`)) continue;
    const name = key.slice(selfFile.length + 1);
    const chain: Origin[] = [];
    const seen = new Set<string>();
    for (let base = bases.get(key); base && !seen.has(`${base.file}#${base.service}`);) {
      seen.add(`${base.file}#${base.service}`);
      const file = files.get(base.file);
      const service = base.service;
      if (file) {
        chain.unshift({
          file: file.file,
          positions: file.positions,
          tree: file.tree,
          map: (path) =>
            path[0] === 'services' && path[1] === name
              ? ['services', service, ...path.slice(2)]
              : undefined,
        });
      }
      base = bases.get(`${base.file}#${base.service}`);
    }
    out.push(...chain);
  }
  return out;
}

function checkSchema(tree: RawMap, origins: readonly Origin[], fallback: Origin | undefined): void {
  const issues = validateSchema(tree);
  if (issues.length > 0) {
    throw new ComposeError(
      'TSC_COMPOSE_INVALID',
      issues.map((i) => locate(i, origins, fallback, tree)),
      { hint: issues.find((i) => i.hint !== undefined)?.hint },
    );
  }
}

/**
 * `include:` (compose spec "include"): each entry is loaded as a project of its own (its own
 * directory and env), its paths resolved there, then its resources are added to this file's
 * model; a resource defined on both sides and not identical is an error.
 */
function applyIncludes(
  tree: RawMap,
  parsed: ParsedFile,
  ctx: FileContext,
  including: Set<string>,
): { tree: RawMap; origins: Origin[] } {
  const list = tree.include;
  if (!Array.isArray(list)) return { tree, origins: [] };
  const origins: Origin[] = [];
  const { include: _dropped, ...rest } = tree;
  let imported: RawMap = {};
  const baseDir = parsed.file === '-' ? process.cwd() : dirname(parsed.file);
  list.forEach((entry, index) => {
    const at: TreePath = ['include', index];
    const spec = isRawMap(entry) ? entry : { path: entry };
    // `include` is applied before the merged model is validated: check its own shape here.
    const strings = (key: string): string[] => {
      const v = spec[key];
      const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
      return list.map((x, i) => {
        if (typeof x === 'string') return x;
        const bad: TreePath = Array.isArray(v)
          ? [...at, key, i]
          : isRawMap(entry)
            ? [...at, key]
            : at;
        throw ComposeError.at(
          'TSC_COMPOSE_INVALID',
          { file: parsed.file, path: formatPath(bad), position: parsed.positions.at(bad) },
          `must be a string`,
        );
      });
    };
    const paths = strings('path').map((p) => ctx.resolveFile(p, baseDir));
    const first = paths[0];
    if (first === undefined) return;
    const projectDir =
      typeof spec.project_directory === 'string'
        ? resolve(baseDir, spec.project_directory)
        : dirname(first);
    const envFiles = strings('env_file').map((f) => resolve(baseDir, f));
    if (envFiles.length === 0 && isReadable(ctx.read, resolve(projectDir, '.env'))) {
      envFiles.push(resolve(projectDir, '.env'));
    }
    const includedEnv = new Map<string, string>();
    for (const f of envFiles) {
      for (const [k, v] of parseDotenv(
        ctx.read(f),
        f,
        (n) => ctx.lookup(n) ?? includedEnv.get(n),
      )) {
        includedEnv.set(k, v);
      }
    }
    const lookup = (k: string): string | undefined => ctx.lookup(k) ?? includedEnv.get(k);
    const sub: FileContext = { ...ctx, lookup, workingDir: projectDir };
    let included: RawMap = {};
    const childOrigins: Origin[] = [];
    for (const p of paths) {
      if (including.has(p)) {
        throw ComposeError.at(
          'TSC_COMPOSE_INCLUDE',
          { file: parsed.file, path: formatPath(at), position: parsed.positions.at(at) },
          `include cycle detected: ${[...including, p].join(' -> ')}`,
        );
      }
      const child = parseComposeYaml(ctx.read(p), p);
      const loaded = loadFileTree(child, sub, new Set([...including, parsed.file, p]));
      childOrigins.push(...loaded.origins);
      included =
        Object.keys(included).length === 0 ? loaded.tree : mergeTrees(included, loaded.tree, child);
    }
    const childFallback = childOrigins.at(-1);
    checkSchema(included, childOrigins, childFallback);
    const canonical = relocate(() => canonicalize(included), childOrigins, childFallback, included);
    const resolved = resolveEnvironment(
      resolveRelativePaths(canonical, projectDir, ctx.homeDir),
      lookup,
    );
    origins.push(...childOrigins);
    imported = addIncluded(imported, resolved, { file: parsed.file, at, parsed });
  });
  // The including file's own definitions apply on top of what it imports (compose-spec
  // "include": a local definition overrides an imported one, with the usual merge rules).
  return { tree: mergeTrees(imported, rest, parsed), origins };
}

/**
 * Resolves `environment` entries without a value (`- VAR`) from an included project's own
 * environment, which the including project does not see (compose-spec "include": env_file).
 */
function resolveEnvironment(tree: RawMap, lookup: (k: string) => string | undefined): RawMap {
  if (!isRawMap(tree.services)) return tree;
  const services: RawMap = {};
  for (const [name, svc] of Object.entries(tree.services)) {
    if (!isRawMap(svc) || !isRawMap(svc.environment)) {
      services[name] = svc;
      continue;
    }
    const env: RawMap = {};
    for (const [k, v] of Object.entries(svc.environment))
      env[k] = v === null ? (lookup(k) ?? null) : v;
    services[name] = { ...svc, environment: env };
  }
  return { ...tree, services };
}

const INCLUDED_KINDS = ['services', 'networks', 'volumes', 'secrets', 'configs', 'models'] as const;

function addIncluded(
  tree: RawMap,
  included: RawMap,
  where: { file: string; at: TreePath; parsed: ParsedFile },
): RawMap {
  const out: RawMap = { ...tree };
  for (const kind of INCLUDED_KINDS) {
    const theirs = included[kind];
    if (!isRawMap(theirs)) continue;
    const current = out[kind];
    const ours: RawMap = isRawMap(current) ? { ...current } : {};
    for (const [key, value] of Object.entries(theirs)) {
      const existing = ours[key];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(value)) {
        const path: TreePath = [kind, key];
        throw ComposeError.at(
          'TSC_COMPOSE_INCLUDE',
          { file: where.file, path: formatPath(path), position: where.parsed.positions.at(path) },
          `${kind}.${key} conflicts with imported resource`,
        );
      }
      ours[key] = value;
    }
    out[kind] = ours;
  }
  return out;
}

function decideProjectName(
  o: LoadOptions,
  parsed: readonly ParsedFile[],
  env: ReadonlyMap<string, string>,
  workingDir: string,
): string {
  if (o.projectName) return checkProjectName(o.projectName, '-p');
  const fromEnv = env.get('COMPOSE_PROJECT_NAME');
  if (fromEnv) return checkProjectName(fromEnv, 'COMPOSE_PROJECT_NAME');
  for (let i = parsed.length - 1; i >= 0; i--) {
    const p = parsed[i];
    const raw = p?.tree.name;
    if (p && typeof raw === 'string' && raw !== '') {
      const { name } = interpolateTree(
        { ...p, tree: { name: raw } },
        (k) => env.get(k),
        () => undefined,
      );
      if (typeof name === 'string' && name !== '') {
        return checkProjectName(name, p.file, p.positions.at(['name']));
      }
    }
  }
  const fromDir = projectNameFromDir(workingDir);
  if (fromDir === '') {
    throw ComposeError.at(
      'TSC_COMPOSE_PROJECT_NAME',
      { file: workingDir, path: '' },
      'project name must not be empty',
      { hint: 'set a project name with -p or a top-level name:' },
    );
  }
  return fromDir;
}

function activeProfiles(o: LoadOptions, env: ReadonlyMap<string, string>): string[] {
  const given = (o.profiles ?? []).filter((p) => p !== '');
  if (given.length > 0) return given;
  return (env.get('COMPOSE_PROFILES') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * Runs a phase that reports key paths without a file (canonical, normalize, graph) and rethrows
 * its ComposeError with each issue located in the file and line that define that path. `tree` is
 * the tree the phase's paths refer to, when it is the merged raw tree (list entries are then
 * found by value, so merged and de-duplicated lists point at the entry's own line).
 */
function relocate<T>(
  phase: () => T,
  origins: readonly Origin[],
  fallback: Origin | undefined,
  tree?: RawMap,
): T {
  try {
    return phase();
  } catch (e) {
    if (e instanceof ComposeError && e.issues.some((i) => i.file === '')) {
      const issues = e.issues.map((i) =>
        i.file === ''
          ? locate({ path: parsePath(i.path), detail: i.detail }, origins, fallback, tree)
          : i,
      );
      throw new ComposeError(e.code, issues, { hint: e.hint });
    }
    throw e;
  }
}

/**
 * Attaches the file and position to an issue found on the merged tree: the highest-priority
 * origin that writes the path. With `tree` (the merged tree the issue's path refers to), a list
 * index is matched by the entry's value, since merging appends and de-duplication removes
 * entries; the reported index is then the one in that file.
 */
function locate(
  issue: SchemaIssue,
  origins: readonly Origin[],
  fallback: Origin | undefined,
  tree?: RawMap,
): ComposeIssue {
  // An unknown key is reported on its parent mapping: point at the key itself when it is one.
  // (the detail starts with the dotted path, except at the file's top level)
  const unknown = /^additional propert(?:y|ies) '([^',]+)' not allowed/.exec(
    issue.path.length > 0 ? issue.detail.replace(/^\S+ /, '') : issue.detail,
  );
  const keyPath = unknown?.[1] !== undefined ? [...issue.path, unknown[1]] : undefined;
  // A list entry is first looked for by its value in every origin (an entry inherited through
  // extends sits after the extending service's own), then by its index.
  const passes = tree === undefined ? [false] : [true, false];
  for (const wanted of keyPath ? [keyPath, issue.path] : [issue.path]) {
    for (const strict of passes) {
      for (let i = origins.length - 1; i >= 0; i--) {
        const o = origins[i];
        const found = o && findIn(o, wanted, tree, strict);
        if (!o || !found) continue;
        const shown = found.shown.slice(0, issue.path.length);
        return {
          file: o.file,
          path: formatPath(shown),
          position:
            wanted === keyPath
              ? (o.positions.keyAt?.(found.at) ?? o.positions.at(found.at))
              : o.positions.at(found.at),
          detail: renamePath(issue.detail, issue.path, shown),
        };
      }
    }
  }
  // Not written anywhere (a default, a missing key): the origin that has most of the path.
  let best = fallback;
  let bestAt: TreePath = fallback?.map?.(issue.path) ?? issue.path;
  let bestLength = 0;
  for (let i = origins.length - 1; i >= 0; i--) {
    const o = origins[i];
    for (let n = issue.path.length - 1; o && n > bestLength; n--) {
      const found = findIn(o, issue.path.slice(0, n), undefined, false);
      if (found) {
        best = o;
        bestAt = found.at;
        bestLength = n;
      }
    }
  }
  return {
    file: best?.file ?? '',
    path: formatPath(issue.path),
    position: best?.positions.at(bestAt),
    detail: issue.detail,
  };
}

/**
 * Where `path` (of the merged tree) is written in one origin: `at`, the path in its own tree, and
 * `shown`, the path to report (the merged names with that file's list indexes); undefined when
 * the origin does not have it (`strict`: or has no list entry equal to the merged one).
 */
function findIn(
  origin: Origin,
  path: TreePath,
  tree: RawMap | undefined,
  strict: boolean,
): { at: TreePath; shown: TreePath } | undefined {
  const mapped = origin.map ? origin.map(path) : path;
  if (mapped === undefined) return undefined;
  const at: PathSegment[] = [];
  const shown: PathSegment[] = [];
  let cur: RawValue | undefined = origin.tree;
  for (let k = 0; k < mapped.length; k++) {
    const seg = mapped[k];
    if (seg === undefined || cur === undefined || cur === null) return undefined;
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return undefined;
      const list: RawValue[] = cur;
      const want = tree === undefined ? undefined : getPath(tree, path.slice(0, k + 1));
      let index = seg;
      if (want !== undefined && !sameValue(list[seg], want)) {
        const j = lastIndexWhere(list, (v) => sameValue(v, want));
        if (j >= 0) index = j;
        else if (strict) return undefined;
      }
      cur = list[index];
      at.push(index);
      shown.push(index);
    } else {
      cur = isRawMap(cur) ? cur[seg] : undefined;
      at.push(seg);
      shown.push(path[k] ?? seg);
    }
  }
  return cur === undefined ? undefined : { at, shown };
}

function sameValue(a: RawValue | undefined, b: RawValue): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function lastIndexWhere(list: readonly RawValue[], ok: (v: RawValue) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (ok(list[i] ?? null)) return i;
  return -1;
}

/** Rewrites a detail that starts with the dotted `from` path to start with `to` instead. */
function renamePath(detail: string, from: TreePath, to: TreePath): string {
  const dotted = (p: TreePath): string => p.map(String).join('.');
  if (from.length === 0 || dotted(from) === dotted(to)) return detail;
  const old = dotted(from);
  return detail.startsWith(`${old} `) ? `${dotted(to)}${detail.slice(old.length)}` : detail;
}

/**
 * Locates semantic issues about `depends_on`; a dependency normalize added from `links`,
 * `volumes_from` or a `service:` namespace (network_mode, ipc, pid, uts, cgroup) that the files
 * do not declare under depends_on is reported at the entry that names the service, once (in
 * compose-go's words, `depends on undefined service`, which it checks first). Cycles (`services.a.depends_on`, `a -> b -> ...`) likewise name
 * the entry of their first edge.
 */
function locateImplicit(
  issues: readonly SchemaIssue[],
  project: Project,
  origins: readonly Origin[],
  fallback: Origin | undefined,
): ComposeIssue[] {
  const moved = issues.map((issue) => {
    const [top, from, key, dep] = issue.path;
    if (top !== 'services' || typeof from !== 'string' || key !== 'depends_on') return issue;
    const to =
      typeof dep === 'string'
        ? dep
        : new RegExp(`^dependency cycle detected: ${escapeRegExp(from)} -> (.+?)(?: -> |$)`).exec(
            issue.detail,
          )?.[1];
    if (to === undefined || declaresDependency(origins, from, to)) return issue;
    const source = implicitSource(project, from, to);
    return source ? { ...issue, path: source, implicit: true } : issue;
  });
  // compose-go reports the dependency (its first check); one issue per entry.
  const implicit = new Set(moved.filter((i) => 'implicit' in i).map((i) => pathKey(i.path)));
  const seen = new Set<string>();
  const tree = project as unknown as RawMap;
  return moved
    .filter((i) => {
      const key = pathKey(i.path);
      if (!implicit.has(key)) return true;
      if (!('implicit' in i) || seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((i) => locate({ path: i.path, detail: i.detail }, origins, fallback, tree));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when a file declares `depends_on` `to` for service `from` (map or list form). */
function declaresDependency(origins: readonly Origin[], from: string, to: string): boolean {
  return origins.some((o) => {
    const found = findIn(o, ['services', from, 'depends_on'], undefined, false);
    const deps = found ? getPath(o.tree, found.at) : undefined;
    return Array.isArray(deps) ? deps.includes(to) : isRawMap(deps) && Object.hasOwn(deps, to);
  });
}

/** The `links` / `service:` namespace / `volumes_from` entry of `from` naming service `to`. */
function implicitSource(project: Project, from: string, to: string): TreePath | undefined {
  const svc = project.services[from];
  if (!svc) return undefined;
  const at = (...rest: PathSegment[]): TreePath => ['services', from, ...rest];
  const link = (svc.links ?? []).findIndex((l) => {
    const parts = l.split(':');
    return (parts.length === 2 ? parts[0] : l) === to;
  });
  if (link >= 0) return at('links', link);
  const namespaces = svc as unknown as Readonly<Record<string, unknown>>;
  for (const ns of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup']) {
    if (namespaces[ns] === `service:${to}`) return at(ns);
  }
  const volume = (svc.volumes_from ?? []).findIndex((v) => v.split(':')[0] === to);
  return volume >= 0 ? at('volumes_from', volume) : undefined;
}

/** Parses `services.web.ports[0]` back into a TreePath (keys without dots, as the graph names them). */
function parsePath(text: string): TreePath {
  const out: (string | number)[] = [];
  for (const part of text.split('.')) {
    if (/^\d+$/.test(part) && out.length > 0) {
      out.push(Number(part));
      continue;
    }
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (m?.[1]) out.push(m[1]);
    for (const i of (m?.[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(i[1]));
  }
  return out;
}

function getPath(tree: RawValue, path: TreePath): RawValue | undefined {
  let cur: RawValue | undefined = tree;
  for (const seg of path) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof seg === 'number') cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = isRawMap(cur) ? cur[seg] : undefined;
  }
  return cur;
}

function isReadable(read: FileReader, p: string): boolean {
  try {
    read(p);
    return true;
  } catch {
    return false;
  }
}

/** Renders unset-variable warnings like docker compose, once per variable. */
function warningSink(
  onWarning: ((line: string) => void) | undefined,
): (w: InterpolationWarning) => void {
  const seen = new Set<string>();
  return (w) => {
    if (!onWarning || seen.has(w.variable)) return;
    seen.add(w.variable);
    onWarning(`WARN[0000] The "${w.variable}" variable is not set. Defaulting to a blank string.`);
  };
}
