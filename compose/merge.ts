/**
 * Loader phase: merging an override file's raw tree into the base (compose-go `override.Merge`
 * with its per-attribute rules), `!reset`/`!override` tags, then `EnforceUnicity` on sequences.
 * Pure data in, new data out; knows nothing about files, schema or normalisation.
 */
import { isRawMap, type RawMap, type RawValue, type TreePath } from './raw.js';

/** `!reset` / `!override` paths collected from the override file by the parser. */
export interface MergeTags {
  /** Paths whose base value is removed. */
  readonly resets: readonly TreePath[];
  /** Paths whose base value is replaced (not merged) by the override's. */
  readonly overrides: readonly TreePath[];
}

type Merger = (base: RawValue, override: RawValue, path: TreePath) => RawValue;

/** Does a concrete path match a pattern of the same length (`*` matches any segment)? */
function matches(path: TreePath, pattern: readonly string[]): boolean {
  if (path.length !== pattern.length) return false;
  for (let i = 0; i < path.length; i++) {
    const p = pattern[i];
    if (p !== '*' && p !== String(path[i])) return false;
  }
  return true;
}

const pattern = (s: string): readonly string[] => s.split('.');

/** compose-go `override/merge.go` special cases, by path pattern. */
const MERGE_SPECIALS: readonly (readonly [readonly string[], Merger])[] = [
  [pattern('networks.*.ipam.config'), mergeIpamConfig],
  [pattern('networks.*.labels'), mergeToSequence],
  [pattern('volumes.*.labels'), mergeToSequence],
  [pattern('models.*.runtime_flags'), replace],
  [pattern('services.*.annotations'), mergeToSequence],
  [pattern('services.*.build'), mergeBuild],
  [pattern('services.*.build.args'), mergeToSequence],
  [pattern('services.*.build.additional_contexts'), mergeToSequence],
  [pattern('services.*.build.extra_hosts'), mergeExtraHosts],
  [pattern('services.*.build.labels'), mergeToSequence],
  [pattern('services.*.command'), replace],
  [pattern('services.*.depends_on'), mergeDependsOn],
  [pattern('services.*.deploy.labels'), mergeToSequence],
  [pattern('services.*.dns'), mergeToSequence],
  [pattern('services.*.dns_opt'), mergeToSequence],
  [pattern('services.*.dns_search'), mergeToSequence],
  [pattern('services.*.entrypoint'), replace],
  [pattern('services.*.env_file'), mergeToSequence],
  [pattern('services.*.label_file'), mergeToSequence],
  [pattern('services.*.environment'), mergeToSequence],
  [pattern('services.*.extra_hosts'), mergeExtraHosts],
  [pattern('services.*.healthcheck.test'), replace],
  [pattern('services.*.labels'), mergeToSequence],
  [pattern('services.*.volumes.*.volume.labels'), mergeToSequence],
  [pattern('services.*.logging'), mergeLogging],
  [pattern('services.*.models'), mergeServiceModels],
  [pattern('services.*.networks'), mergeNetworks],
  [pattern('services.*.sysctls'), mergeToSequence],
  [pattern('services.*.tmpfs'), mergeToSequence],
  [pattern('services.*.ulimits.*'), mergeUlimit],
];

/**
 * Merges `override` into `base` with compose's per-attribute rules (compose-spec "Merge and
 * override"; compose-go `override.Merge` + `EnforceUnicity`):
 * - mappings merge key by key; `x-` keys are replaced whole; a null override keeps the base;
 * - sequences are appended, then made unique per attribute (ports by host_ip/published/target/
 *   protocol, volumes and devices by target, secrets/configs by target, environment/labels/args/
 *   sysctls by key, env_file by path, dns/cap_add/profiles/... by value), an entry keeping the
 *   place of its first occurrence and the value of its last;
 * - environment, labels, annotations, args, sysctls, tmpfs, dns, env_file are converted to
 *   sequences (`KEY=value`, maps sorted by key) and concatenated;
 * - command, entrypoint, healthcheck.test and models' runtime_flags are replaced;
 * - build strings become `{context}`; depends_on and networks lists become maps and merge;
 *   logging options merge unless both set different drivers; extra_hosts drop exact duplicates;
 *   ipam.config entries merge by subnet; each ulimit is replaced whole;
 * - `tags.resets` remove the base value at those paths; `tags.overrides` replace it.
 * Neither input is modified. Returns the merged tree.
 */
export function mergeTrees(base: RawMap, override: RawMap, tags?: MergeTags): RawMap {
  const b = structuredClone(base);
  if (tags) {
    for (const p of tags.resets) deleteAt(b, p);
    for (const p of tags.overrides) deleteAt(b, p);
  }
  const merged = mergeValue(b, structuredClone(override), []);
  return enforceUnicity(merged, []) as RawMap;
}

/** Removes the node at `path` (a map key or a list element); no-op when absent. */
function deleteAt(tree: RawMap, path: TreePath): void {
  if (path.length === 0) return;
  let node: RawValue = tree;
  for (const seg of path.slice(0, -1)) {
    if (isRawMap(node) && typeof seg === 'string') node = node[seg] ?? null;
    else if (Array.isArray(node) && typeof seg === 'number') node = node[seg] ?? null;
    else return;
  }
  const last = path[path.length - 1];
  if (isRawMap(node) && typeof last === 'string') delete node[last];
  else if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
}

function mergeValue(base: RawValue, override: RawValue, path: TreePath): RawValue {
  for (const [pat, merger] of MERGE_SPECIALS) {
    if (matches(path, pat)) return merger(base, override, path);
  }
  if (override === null) return base;
  if (isRawMap(base) && isRawMap(override)) return mergeMappings(base, override, path);
  if (Array.isArray(base) && Array.isArray(override)) return [...base, ...override];
  return override;
}

function mergeMappings(base: RawMap, override: RawMap, path: TreePath): RawMap {
  const out: RawMap = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (!(k in out) || k.startsWith('x-')) {
      out[k] = v;
      continue;
    }
    out[k] = mergeValue(out[k] ?? null, v, [...path, k]);
  }
  return out;
}

function replace(base: RawValue, override: RawValue): RawValue {
  return override === null ? base : override;
}

/** Go's `%v` of a scalar. */
function goString(v: RawValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A map becomes sorted `k=v` strings (`k` alone for null, one entry per list element). */
function toSequence(value: RawValue): RawValue[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [value];
  if (!isRawMap(value)) return [];
  const seq: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === null) seq.push(k);
    else if (Array.isArray(v)) for (const item of v) seq.push(`${k}=${goString(item)}`);
    else seq.push(`${k}=${goString(v)}`);
  }
  return seq.sort(compareStrings);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mergeToSequence(base: RawValue, override: RawValue): RawValue {
  return [...toSequence(base), ...toSequence(override)];
}

function mergeExtraHosts(base: RawValue, override: RawValue): RawValue {
  const out = toSequence(base);
  for (const h of toSequence(override)) if (!out.includes(h)) out.push(h);
  return out;
}

/** A list of names (or a map) as a map; list entries get `dflt` (or null). */
function toMapping(value: RawValue, dflt: () => RawValue): RawMap {
  if (isRawMap(value)) return value;
  const out: RawMap = {};
  if (Array.isArray(value)) for (const v of value) out[goString(v)] = dflt();
  return out;
}

function mergeDependsOn(base: RawValue, override: RawValue, path: TreePath): RawValue {
  const dflt = (): RawValue => ({ condition: 'service_started', required: true });
  return mergeMappings(toMapping(base, dflt), toMapping(override, dflt), path);
}

function mergeNetworks(base: RawValue, override: RawValue, path: TreePath): RawValue {
  if (override === null) return base;
  return mergeMappings(
    toMapping(base, () => null),
    toMapping(override, () => null),
    path,
  );
}

function mergeServiceModels(base: RawValue, override: RawValue, path: TreePath): RawValue {
  if (override === null) return base;
  return mergeMappings(
    toMapping(base, () => null),
    toMapping(override, () => null),
    path,
  );
}

function mergeBuild(base: RawValue, override: RawValue, path: TreePath): RawValue {
  if (override === null) return base;
  const asMap = (v: RawValue): RawMap =>
    typeof v === 'string' ? { context: v } : isRawMap(v) ? v : {};
  return mergeMappings(asMap(base), asMap(override), path);
}

function mergeLogging(base: RawValue, override: RawValue, path: TreePath): RawValue {
  if (!isRawMap(base) || !isRawMap(override)) return override ?? base;
  const bd = base['driver'];
  const od = override['driver'];
  if (bd !== undefined && od !== undefined && bd !== od) return override;
  return mergeMappings(base, override, path);
}

/** A ulimit given in the override replaces the base one whole (int or `{soft, hard}`). */
function mergeUlimit(base: RawValue, override: RawValue): RawValue {
  return override ?? base;
}

function mergeIpamConfig(base: RawValue, override: RawValue, path: TreePath): RawValue {
  if (!Array.isArray(base) || !Array.isArray(override)) return override ?? base;
  const out: RawValue[] = [...base];
  for (const o of override) {
    const subnet = isRawMap(o) ? o['subnet'] : undefined;
    const i =
      subnet === undefined ? -1 : out.findIndex((b) => isRawMap(b) && b['subnet'] === subnet);
    const existing = i >= 0 ? out[i] : undefined;
    if (existing !== undefined && isRawMap(existing) && isRawMap(o)) {
      out[i] = mergeMappings(existing, o, [...path, i]);
    } else out.push(o);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// EnforceUnicity

type Indexer = (entry: RawValue) => string;

const keyValue: Indexer = (v) => {
  const s = goString(v);
  const eq = s.indexOf('=');
  return eq < 0 ? s : s.slice(0, eq);
};

const whole: Indexer = (v) => goString(v);

/** Short volume syntax `src:target[:mode]` -> target; long syntax -> `target`. */
const volumeTarget: Indexer = (v) => {
  if (isRawMap(v)) return goString(v['target'] ?? null);
  const parts = goString(v).split(':');
  return parts.length >= 2 ? (parts[1] ?? '') : (parts[0] ?? '');
};

/** Devices `host[:container[:perms]]` -> container path (the host path when alone). */
const deviceTarget: Indexer = (v) => {
  if (isRawMap(v)) return goString(v['target'] ?? v['source'] ?? null);
  const parts = goString(v).split(':');
  return parts.length >= 2 ? (parts[1] ?? '') : (parts[0] ?? '');
};

const mountTarget =
  (prefix: string): Indexer =>
  (v) => {
    if (isRawMap(v)) {
      const target = v['target'];
      if (typeof target === 'string' && target !== '') return target;
      return joinPath(prefix, goString(v['source'] ?? null));
    }
    return joinPath(prefix, goString(v));
  };

function joinPath(prefix: string, name: string): string {
  if (prefix === '') return name;
  if (name.startsWith('/')) return name;
  return `${prefix}/${name}`;
}

const portKey: Indexer = (v) => {
  if (!isRawMap(v)) return goString(v);
  const hostIp = v['host_ip'] === undefined ? '' : goString(v['host_ip']);
  const published = v['published'] === undefined ? '' : goString(v['published']);
  const protocol = v['protocol'] === undefined ? 'tcp' : goString(v['protocol']);
  return `${hostIp}:${published}:${goString(v['target'] ?? null)}/${protocol}`;
};

const envFilePath: Indexer = (v) => (isRawMap(v) ? goString(v['path'] ?? null) : goString(v));

/** compose-go `override/uncity.go` indexers by path pattern. */
const UNIQUE: readonly (readonly [readonly string[], Indexer])[] = [
  [pattern('networks.*.labels'), keyValue],
  [pattern('networks.*.ipam.options'), keyValue],
  [pattern('volumes.*.labels'), keyValue],
  [pattern('services.*.annotations'), keyValue],
  [pattern('services.*.build.args'), keyValue],
  [pattern('services.*.build.additional_contexts'), keyValue],
  [pattern('services.*.build.platform'), whole],
  [pattern('services.*.build.tags'), whole],
  [pattern('services.*.build.labels'), keyValue],
  [pattern('services.*.cap_add'), whole],
  [pattern('services.*.cap_drop'), whole],
  [pattern('services.*.devices'), deviceTarget],
  [pattern('services.*.configs'), mountTarget('')],
  [pattern('services.*.deploy.labels'), keyValue],
  [pattern('services.*.dns'), whole],
  [pattern('services.*.dns_opt'), whole],
  [pattern('services.*.dns_search'), whole],
  [pattern('services.*.environment'), keyValue],
  [pattern('services.*.env_file'), envFilePath],
  [pattern('services.*.label_file'), whole],
  [pattern('services.*.expose'), whole],
  [pattern('services.*.labels'), keyValue],
  [pattern('services.*.links'), keyValue],
  [pattern('services.*.networks.*.aliases'), whole],
  [pattern('services.*.networks.*.link_local_ips'), whole],
  [pattern('services.*.ports'), portKey],
  [pattern('services.*.profiles'), whole],
  [pattern('services.*.secrets'), mountTarget('/run/secrets')],
  [pattern('services.*.sysctls'), keyValue],
  [pattern('services.*.tmpfs'), keyValue],
  [pattern('services.*.volumes'), volumeTarget],
];

/**
 * Collapses duplicate sequence entries per attribute (compose-go `EnforceUnicity`): an entry
 * keeps the position of its first occurrence and the value of its last. Returns a new tree.
 */
export function enforceUnicity(value: RawValue, path: TreePath): RawValue {
  if (isRawMap(value)) {
    const out: RawMap = {};
    for (const [k, v] of Object.entries(value)) out[k] = enforceUnicity(v, [...path, k]);
    return out;
  }
  if (!Array.isArray(value)) return value;
  const indexer = UNIQUE.find(([pat]) => matches(path, pat))?.[1];
  if (!indexer) return value;
  const seq: RawValue[] = [];
  const seen = new Map<string, number>();
  for (const entry of value) {
    const key = indexer(entry);
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, seq.length);
      seq.push(entry);
    } else seq[at] = entry;
  }
  return seq;
}
