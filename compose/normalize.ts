/**
 * Canonical raw tree -> frozen Project (compose-go `Normalize` + environment resolution):
 * profiles, the default network, resource names, build defaults, implicit depends_on, env_file
 * contents merged into `environment`, variables resolved from the project environment, absolute
 * paths. Reads env files only through the injected `readEnvFile`; never touches process.env.
 */
import { posix } from 'node:path';

import { ComposeError, type ComposeIssue } from '../base/errors.js';
import { parseDotenv } from './dotenv.js';
import type { Project } from './model.js';
import { absolutePath, isRemoteContext } from './paths.js';
import { isRawMap, type RawMap, type RawValue } from './raw.js';

/** Inputs of {@link normalizeProject}. */
export interface NormalizeOptions {
  /** The project name (already decided by the caller). */
  readonly projectName: string;
  /** Absolute project directory; relative paths resolve here. */
  readonly workingDir: string;
  /** The resolved project environment (interpolation env). */
  readonly env: ReadonlyMap<string, string>;
  /** Reads an env file by absolute path; undefined = missing. */
  readonly readEnvFile: (absPath: string) => string | undefined;
  /** Home directory for `~`. */
  readonly homeDir: string;
  /** Active profiles (`--profile`, COMPOSE_PROFILES); `*` enables all. Default: none. */
  readonly activeProfiles?: readonly string[];
  /** Keep `env_file` entries in the model after merging them (compose default: true). */
  readonly keepEnvFiles?: boolean;
  /**
   * `config --no-normalize` (compose-go SkipNormalization): no default network, no
   * `<project>_<key>` resource names, no build defaults, no implicit depends_on.
   */
  readonly skipNormalization?: boolean;
}

const SERVICE_PREFIX = 'service:';
const CONTAINER_PREFIX = 'container:';

function clone<T extends RawValue>(v: T): T {
  return structuredClone(v);
}

/** Deep-freezes a plain tree in place. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function profileActive(svc: RawMap, active: readonly string[]): boolean {
  const profiles = svc.profiles;
  if (!Array.isArray(profiles) || profiles.length === 0) return true;
  if (active.includes('*')) return true;
  return profiles.some((p) => typeof p === 'string' && active.includes(p));
}

function addImplicitDependency(deps: RawMap, name: string, restart: boolean): void {
  if (name === '' || Object.hasOwn(deps, name)) return;
  deps[name] = { condition: 'service_started', restart, required: true };
}

function implicitDependencies(svc: RawMap): void {
  const deps: RawMap = isRawMap(svc.depends_on) ? svc.depends_on : {};
  if (Array.isArray(svc.links)) {
    for (const l of svc.links) {
      if (typeof l !== 'string') continue;
      const parts = l.split(':');
      addImplicitDependency(deps, parts.length === 2 ? (parts[0] ?? l) : l, true);
    }
  }
  for (const ns of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup']) {
    const ref = svc[ns];
    if (typeof ref === 'string' && ref.startsWith(SERVICE_PREFIX)) {
      addImplicitDependency(deps, ref.slice(SERVICE_PREFIX.length), true);
    }
  }
  if (Array.isArray(svc.volumes_from)) {
    for (const v of svc.volumes_from) {
      if (typeof v !== 'string' || v.startsWith(CONTAINER_PREFIX)) continue;
      addImplicitDependency(deps, v.split(':')[0] ?? v, false);
    }
  }
  if (Object.keys(deps).length > 0) svc.depends_on = deps;
}

function resolveFromEnv(m: RawMap, env: ReadonlyMap<string, string>, keepUnset: boolean): RawMap {
  const out: RawMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (v !== null) out[k] = v;
    else if (env.has(k)) out[k] = env.get(k) ?? '';
    else if (keepUnset) out[k] = null;
  }
  return out;
}

/** env_file contents (in order, later files win), then `environment` on top (compose v2 rule). */
function mergeEnvFiles(
  name: string,
  svc: RawMap,
  o: NormalizeOptions,
  issues: ComposeIssue[],
): void {
  if (!Array.isArray(svc.env_file)) return;
  const fromFiles = new Map<string, string>();
  // project environment first, then the service's own environment (compose-go
  // WithServicesEnvironmentResolved)
  const own = isRawMap(svc.environment) ? svc.environment : {};
  const lookup = (k: string): string | undefined => {
    const fromProject = o.env.get(k);
    if (fromProject !== undefined) return fromProject;
    const v = own[k];
    return typeof v === 'string' ? v : undefined;
  };
  svc.env_file.forEach((entry, i) => {
    if (!isRawMap(entry) || typeof entry.path !== 'string') return;
    const path = absolutePath(o.workingDir, entry.path, o.homeDir);
    entry.path = path;
    const text = o.readEnvFile(path);
    if (text === undefined) {
      if (entry.required !== false) {
        issues.push({
          file: '',
          path: `services.${name}.env_file.${i}`,
          detail: `env file ${path} not found: stat ${path}: no such file or directory`,
        });
      }
      return;
    }
    for (const [k, v] of parseDotenv(text, path, lookup)) fromFiles.set(k, v);
  });
  const env: RawMap = Object.fromEntries(fromFiles);
  if (isRawMap(svc.environment)) Object.assign(env, svc.environment);
  svc.environment = env;
  if (o.keepEnvFiles === false) delete svc.env_file;
}

function mergeLabelFiles(
  svc: RawMap,
  o: NormalizeOptions,
  name: string,
  issues: ComposeIssue[],
): void {
  const files =
    typeof svc.label_file === 'string'
      ? [svc.label_file]
      : Array.isArray(svc.label_file)
        ? svc.label_file
        : [];
  if (files.length === 0) return;
  const labels: RawMap = {};
  files.forEach((f, i) => {
    if (typeof f !== 'string') return;
    const path = absolutePath(o.workingDir, f, o.homeDir);
    const text = o.readEnvFile(path);
    if (text === undefined) {
      issues.push({
        file: '',
        path: `services.${name}.label_file.${i}`,
        detail: `label file ${path} not found`,
      });
      return;
    }
    for (const [k, v] of parseDotenv(text, path)) labels[k] = v;
  });
  if (isRawMap(svc.labels)) Object.assign(labels, svc.labels);
  svc.labels = labels;
  delete svc.label_file;
}

function normalizeBuild(svc: RawMap, o: NormalizeOptions): void {
  if (!isRawMap(svc.build)) return;
  const b = svc.build;
  if (b.context === undefined || b.context === null) b.context = '.';
  if (typeof b.context === 'string' && !isRemoteContext(b.context)) {
    b.context = absolutePath(o.workingDir, b.context, o.homeDir);
  }
  if ((b.dockerfile === undefined || b.dockerfile === null) && b.dockerfile_inline === undefined) {
    b.dockerfile = 'Dockerfile';
  }
  if (isRawMap(b.args)) b.args = resolveFromEnv(b.args, o.env, false);
  if (isRawMap(b.additional_contexts)) {
    for (const [k, v] of Object.entries(b.additional_contexts)) {
      if (typeof v === 'string' && !isRemoteContext(v) && !v.includes(':')) {
        b.additional_contexts[k] = absolutePath(o.workingDir, v, o.homeDir);
      }
    }
  }
}

function normalizeVolumes(svc: RawMap, o: NormalizeOptions): void {
  if (!Array.isArray(svc.volumes)) return;
  for (const v of svc.volumes) {
    if (!isRawMap(v)) continue;
    if (typeof v.target === 'string' && v.target !== '')
      v.target = posix.normalize(v.target).replace(/(.)\/$/, '$1');
    if (v.type === 'bind' && typeof v.source === 'string' && v.source !== '') {
      v.source = absolutePath(o.workingDir, v.source, o.homeDir);
    }
  }
}

function normalizeNetworks(tree: RawMap): void {
  const services = isRawMap(tree.services) ? tree.services : {};
  let usesDefault = false;
  for (const svc of Object.values(services)) {
    if (!isRawMap(svc) || svc.provider !== undefined || svc.network_mode !== undefined) continue;
    if (!isRawMap(svc.networks) || Object.keys(svc.networks).length === 0) {
      svc.networks = { default: null };
      usesDefault = true;
    } else if (Object.hasOwn(svc.networks, 'default')) usesDefault = true;
  }
  const networks: RawMap = isRawMap(tree.networks) ? tree.networks : {};
  if (usesDefault && !Object.hasOwn(networks, 'default')) networks.default = {};
  if (Object.keys(networks).length > 0) tree.networks = networks;
}

function setNames(tree: RawMap, project: string): void {
  for (const kind of ['networks', 'volumes', 'configs', 'secrets']) {
    const section = tree[kind];
    if (!isRawMap(section)) continue;
    for (const [key, r] of Object.entries(section)) {
      const res: RawMap = isRawMap(r) ? r : {};
      if (res.name === undefined || res.name === null) {
        res.name = res.external === true ? key : `${project}_${key}`;
      }
      section[key] = res;
    }
  }
}

function resolveResourcePaths(tree: RawMap, o: NormalizeOptions): void {
  for (const kind of ['secrets', 'configs']) {
    const section = tree[kind];
    if (!isRawMap(section)) continue;
    for (const r of Object.values(section)) {
      if (isRawMap(r) && typeof r.file === 'string')
        r.file = absolutePath(o.workingDir, r.file, o.homeDir);
    }
  }
  if (isRawMap(tree.volumes)) {
    for (const v of Object.values(tree.volumes)) {
      // local driver bind devices (`o: bind`) resolve like bind mounts
      if (!isRawMap(v) || !isRawMap(v.driver_opts)) continue;
      const device = v.driver_opts.device;
      if (typeof device === 'string' && (device.startsWith('.') || device.startsWith('~'))) {
        v.driver_opts.device = absolutePath(o.workingDir, device, o.homeDir);
      }
    }
  }
}

/**
 * Builds the normalised, deep-frozen Project from a canonical raw tree (compose/canonical.ts),
 * following compose-go `loader.Normalize` and `WithServicesEnvironmentResolved`:
 * services outside the active profiles are dropped; services with no networks and no
 * network_mode join `default` (added as `<project>_default`); networks/volumes/secrets/configs
 * get `name` `<project>_<key>` unless named or external (then the key); build gets
 * `context: <workingDir>` and `dockerfile: Dockerfile`; links / volumes_from /
 * `service:x` namespaces become depends_on entries; env_file contents are merged under
 * `environment`, and keys without a value take the project environment's value; pull_policy
 * `if_not_present` becomes `missing`; relative paths become absolute.
 * @throws ComposeError TSC_COMPOSE_ENV_FILE for a required env_file that does not exist
 *   (`env file <path> not found`), listing every missing file
 */
export function normalizeProject(tree: RawMap, o: NormalizeOptions): Project {
  const t: RawMap = clone(tree);
  t.name = o.projectName;
  const active = o.activeProfiles ?? [];
  const services: RawMap = {};
  const issues: ComposeIssue[] = [];
  if (isRawMap(t.services)) {
    for (const [name, s] of Object.entries(t.services)) {
      if (!isRawMap(s) || !profileActive(s, active)) continue;
      services[name] = s;
    }
  }
  t.services = services;
  const normalize = o.skipNormalization !== true;
  if (normalize) normalizeNetworks(t);
  for (const [name, s] of Object.entries(services)) {
    if (!isRawMap(s)) continue;
    if (s.pull_policy === 'if_not_present') s.pull_policy = 'missing';
    if (normalize) normalizeBuild(s, o);
    mergeEnvFiles(name, s, o, issues);
    mergeLabelFiles(s, o, name, issues);
    if (isRawMap(s.environment)) s.environment = resolveFromEnv(s.environment, o.env, true);
    if (normalize) implicitDependencies(s);
    normalizeVolumes(s, o);
    if (Array.isArray(s.pre_start) && typeof s.image === 'string' && s.image !== '') {
      for (const h of s.pre_start) if (isRawMap(h) && h.image === undefined) h.image = s.image;
    }
    if (isRawMap(s.extends) && typeof s.extends.file === 'string') {
      s.extends.file = absolutePath(o.workingDir, s.extends.file, o.homeDir);
    }
  }
  if (issues.length > 0) throw new ComposeError('TSC_COMPOSE_ENV_FILE', issues);
  if (normalize) setNames(t, o.projectName);
  resolveResourcePaths(t, o);
  const ordered: RawMap = { name: t.name, services: t.services };
  for (const [k, v] of Object.entries(t)) if (!(k in ordered)) ordered[k] = v;
  delete ordered.version;
  delete ordered.include;
  return deepFreeze(ordered) as unknown as Project;
}
