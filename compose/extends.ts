/**
 * Loader phase: `extends` (same file and other files, chains), merging each extended service into
 * the extending one with the override rules, and rebasing the relative paths of services taken
 * from other directories. Reads other files only through the `load` callback it is given.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ComposeError } from '../base/errors.js';
import { mergeTrees, type MergeTags } from './merge.js';
import type { ParsedFile } from './parse.js';
import {
  formatPath,
  isRawMap,
  type PositionIndex,
  type RawMap,
  type RawValue,
  type TreePath,
} from './raw.js';

/** What {@link resolveExtends} needs besides the tree. */
export interface ExtendsContext {
  /** Absolute path of the file whose tree is being resolved. */
  readonly file: string;
  /** Parses and interpolates another file (absolute path). Called at most once per file. */
  readonly load: (absPath: string) => ParsedFile;
  /** `!reset`/`!override` paths of this file; those under `services.<name>` apply to its base. */
  readonly tags?: MergeTags | undefined;
  /** Positions in this file, for error messages. */
  readonly positions?: PositionIndex | undefined;
  /**
   * Maps an `extends.file` value to a local absolute path (resource loaders: remote references);
   * default: resolved against the declaring file's directory.
   */
  readonly resolveFile?: ((file: string, fromDir: string) => string) | undefined;
  /**
   * The directory this file's relative `extends.file` values resolve against: the project's
   * working directory (compose-go resolves them with the project's resource loader); default the
   * file's own directory. Files reached through extends resolve against their own directory.
   */
  readonly baseDir?: string | undefined;
  /**
   * Told of each `extends` resolved: service `service` of `file` takes service `base.service` of
   * `base.file` (absolute paths; the same file for a local extends). Lets error messages point at
   * the file and line where an inherited value is written.
   */
  readonly onExtends?:
    ((file: string, service: string, base: { file: string; service: string }) => void) | undefined;
}

interface FileScope {
  readonly file: string;
  /** The directory its relative `extends.file` values resolve against. */
  readonly dir: string;
  readonly services: RawMap;
  readonly tags: MergeTags | undefined;
  readonly positions: PositionIndex | undefined;
  readonly resolved: Map<string, RawMap>;
}

/**
 * Resolves every `extends` of a tree (compose-spec "extends"; compose-go `loader/extends.go`):
 * `extends: name` or `{service, file}`; the base service (itself resolved first, in the file that
 * declares it) is merged under the extending service with the override rules of
 * {@link mergeTrees}, `!reset`/`!override` of the extending file applying; the `extends` key is
 * removed. A base from another file has its relative paths (build context, env_file, label_file,
 * bind-mount sources, additional_contexts, develop.watch paths) made absolute against that
 * file's directory. Only the extended service is taken over: services it refers to are not.
 * Returns a new tree; the input is not modified.
 * @throws ComposeError `TSC_COMPOSE_EXTENDS`: `extends.web.service is required`,
 *   `cannot extend service "web" in compose.yaml: service "base" not found`, and cycles
 *   (`extends cycle: compose.yaml#a -> compose.yaml#b -> compose.yaml#a`).
 */
export function resolveExtends(tree: RawMap, ctx: ExtendsContext): RawMap {
  const services = tree['services'];
  if (!isRawMap(services)) return tree;
  const hasExtends = Object.values(services).some((s) => isRawMap(s) && s['extends'] !== undefined);
  if (!hasExtends) return tree;
  const loaded = new Map<string, FileScope>();
  const scope: FileScope = {
    file: ctx.file,
    dir: ctx.baseDir ?? dirname(ctx.file),
    services,
    tags: ctx.tags,
    positions: ctx.positions,
    resolved: new Map(),
  };
  loaded.set(ctx.file, scope);
  const resolver = new Resolver(
    ctx.load,
    loaded,
    ctx.resolveFile ?? ((file, fromDir) => (isAbsolute(file) ? file : resolve(fromDir, file))),
    ctx.onExtends,
  );
  const out: RawMap = {};
  for (const [name, svc] of Object.entries(services)) {
    out[name] = isRawMap(svc) ? resolver.service(scope, name, []) : svc;
  }
  return { ...tree, services: out };
}

class Resolver {
  constructor(
    private readonly load: (absPath: string) => ParsedFile,
    private readonly scopes: Map<string, FileScope>,
    readonly resolveFile: (file: string, fromDir: string) => string,
    private readonly onExtends: ExtendsContext['onExtends'],
  ) {}

  private scopeOf(file: string): FileScope {
    const known = this.scopes.get(file);
    if (known) return known;
    const parsed = this.load(file);
    const services = parsed.tree['services'];
    const scope: FileScope = {
      file,
      dir: dirname(file),
      services: isRawMap(services) ? services : {},
      tags: { resets: parsed.resets, overrides: parsed.overrides },
      positions: parsed.positions,
      resolved: new Map(),
    };
    this.scopes.set(file, scope);
    return scope;
  }

  /** The service `name` of `scope` with its extends resolved. */
  service(scope: FileScope, name: string, chain: readonly string[]): RawMap {
    const done = scope.resolved.get(name);
    if (done) return done;
    const raw = scope.services[name];
    const svc: RawMap = isRawMap(raw) ? raw : {};
    const ext = svc['extends'];
    if (ext === undefined) {
      scope.resolved.set(name, svc);
      return svc;
    }
    const here = `${scope.file}#${name}`;
    const path: TreePath = ['services', name, 'extends'];
    const fail = (detail: string): ComposeError =>
      ComposeError.at(
        'TSC_COMPOSE_EXTENDS',
        { file: scope.file, path: formatPath(path), position: scope.positions?.at(path) },
        detail,
      );
    if (chain.includes(here)) {
      const cycle = [...chain.slice(chain.indexOf(here)), here].join(' -> ');
      throw fail(`circular reference in extends: ${cycle}`);
    }
    const { service: baseName, file } = readExtends(ext, name, fail);
    let base: RawMap;
    if (file !== undefined) {
      const abs = this.resolveFile(file, scope.dir);
      const other = this.scopeOf(abs);
      if (!(baseName in other.services)) {
        throw fail(
          `cannot extend service ${JSON.stringify(name)} in ${scope.file}: service ${JSON.stringify(baseName)} not found in ${abs}`,
        );
      }
      base = this.service(other, baseName, [...chain, here]);
      this.onExtends?.(scope.file, name, { file: abs, service: baseName });
      if (dirname(abs) !== scope.dir) base = rebasePaths(base, dirname(abs));
    } else {
      if (!(baseName in scope.services)) {
        throw fail(
          `cannot extend service ${JSON.stringify(name)} in ${scope.file}: service ${JSON.stringify(baseName)} not found`,
        );
      }
      base = this.service(scope, baseName, [...chain, here]);
      this.onExtends?.(scope.file, name, { file: scope.file, service: baseName });
    }
    const own: RawMap = { ...svc };
    delete own['extends'];
    const prefix: TreePath = ['services', name];
    const under = (paths: readonly TreePath[] | undefined): TreePath[] =>
      (paths ?? [])
        .filter((p) => p.length > 2 && p[0] === 'services' && p[1] === name)
        .map((p) => [...prefix, ...p.slice(2)]);
    const tags: MergeTags = {
      resets: under(scope.tags?.resets),
      overrides: under(scope.tags?.overrides),
    };
    const baseCopy: RawMap = { ...base };
    delete baseCopy['extends'];
    const merged = mergeTrees(
      { services: { [name]: baseCopy } },
      { services: { [name]: own } },
      tags,
    );
    const result = (merged['services'] as RawMap)[name];
    const out = isRawMap(result) ? result : {};
    scope.resolved.set(name, out);
    return out;
  }
}

function readExtends(
  ext: RawValue,
  name: string,
  fail: (detail: string) => ComposeError,
): { service: string; file: string | undefined } {
  if (typeof ext === 'string') return { service: ext, file: undefined };
  if (!isRawMap(ext)) throw fail('extends must be a string or a mapping');
  const service = ext['service'];
  const file = ext['file'];
  if (typeof service !== 'string' || service === '') {
    throw fail(`extends.${name}.service is required`);
  }
  if (file !== undefined && file !== null && typeof file !== 'string') {
    throw fail('extends.file must be a string');
  }
  return { service, file: typeof file === 'string' && file !== '' ? file : undefined };
}

// ---------------------------------------------------------------------------------------------
// Rebasing relative paths of a service taken from another directory

/** A local relative path (not absolute, not `~`, not a URL or a special scheme). */
function isRelativeLocal(p: string): boolean {
  if (p === '' || isAbsolute(p) || p.startsWith('~')) return false;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p)) return false; // https://, docker-image://, ...
  if (/^(git@|github\.com\/)/.test(p) || p.startsWith('service:')) return false;
  return true;
}

function rebase(p: RawValue, dir: string): RawValue {
  return typeof p === 'string' ? rebaseString(p, dir) : p;
}

function rebaseString(p: string, dir: string): string {
  return isRelativeLocal(p) ? join(dir, p) : p;
}

/** Short volume syntax source that is a path (starts with `.`), not a named volume. */
function isPathSource(src: string): boolean {
  return src === '.' || src === '..' || src.startsWith('./') || src.startsWith('../');
}

/**
 * Makes the relative paths of a service absolute against `dir` (the directory of the file that
 * declares it): build context and additional local contexts, env_file, label_file, bind-mount
 * sources (short syntax sources starting with `.`, long syntax `type: bind`), develop.watch paths.
 */
export function rebasePaths(service: RawMap, dir: string): RawMap {
  const out: RawMap = { ...service };
  const build = out['build'];
  if (typeof build === 'string') out['build'] = rebase(build, dir);
  else if (isRawMap(build)) {
    const b: RawMap = { ...build };
    if (b['context'] !== undefined) b['context'] = rebase(b['context'], dir);
    else b['context'] = dir;
    const extra = b['additional_contexts'];
    if (isRawMap(extra)) {
      const e: RawMap = {};
      for (const [k, v] of Object.entries(extra)) e[k] = rebase(v, dir);
      b['additional_contexts'] = e;
    } else if (Array.isArray(extra)) {
      b['additional_contexts'] = extra.map((item) => {
        if (typeof item !== 'string') return item;
        const eq = item.indexOf('=');
        return eq < 0 ? item : `${item.slice(0, eq + 1)}${rebaseString(item.slice(eq + 1), dir)}`;
      });
    }
    out['build'] = b;
  }
  for (const key of ['env_file', 'label_file']) {
    const v = out[key];
    if (typeof v === 'string') out[key] = rebase(v, dir);
    else if (Array.isArray(v)) {
      out[key] = v.map((item) =>
        isRawMap(item) ? { ...item, path: rebase(item['path'] ?? null, dir) } : rebase(item, dir),
      );
    }
  }
  const volumes = out['volumes'];
  if (Array.isArray(volumes)) {
    out['volumes'] = volumes.map((v) => {
      if (typeof v === 'string') {
        const colon = v.indexOf(':');
        if (colon < 0) return v;
        const src = v.slice(0, colon);
        return isPathSource(src) ? `${join(dir, src)}${v.slice(colon)}` : v;
      }
      if (isRawMap(v) && v['type'] === 'bind' && typeof v['source'] === 'string') {
        return { ...v, source: rebase(v['source'], dir) };
      }
      return v;
    });
  }
  const develop = out['develop'];
  if (isRawMap(develop) && Array.isArray(develop['watch'])) {
    out['develop'] = {
      ...develop,
      watch: develop['watch'].map((w) =>
        isRawMap(w) && typeof w['path'] === 'string' ? { ...w, path: rebase(w['path'], dir) } : w,
      ),
    };
  }
  return out;
}
