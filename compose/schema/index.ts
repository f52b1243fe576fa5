/**
 * Schema validation of a raw compose tree (after interpolation, before merge) against the Compose
 * schema (compose/schema/spec.ts), reporting every issue with compose-go's wording. Pure; it
 * never changes the tree.
 */
import type { z } from 'zod';

import {
  formatPath,
  isRawMap,
  type PathSegment,
  type RawMap,
  type RawValue,
  type TreePath,
} from '../raw.js';
import { lazy } from '../../base/lazy.js';
import type * as Core from './core.js';
import type * as Spec from './spec.js';

/**
 * zod and the Compose schema, loaded on the first validation instead of at import (~20 ms of every
 * command's start: `down` and `up` send their first API calls meanwhile, commands without a
 * compose file skip it). A require inside a function is bundled but run on first use.
 */
const schema = lazy(() => ({
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  core: require('./core.js') as typeof Core,
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  spec: require('./spec.js') as typeof Spec,
}));

/** One schema (or semantic) problem: where, and compose-go's message for it. */
export interface SchemaIssue {
  /** Key path from the document root. */
  readonly path: TreePath;
  /**
   * compose-go's rewritten message, path included, dot-joined as compose-go prints it
   * (`services.tmpfs.volumes.0 additional properties 'foo' not allowed`).
   */
  readonly detail: string;
  /** For an unknown key: the closest known key (`did you mean "environment"?`), else absent. */
  readonly hint?: string;
}

/** compose-go's dotted rendering of a path (`services.web.ports.0`). */
export function dottedPath(path: TreePath): string {
  return path.map(String).join('.');
}

/** Builds a SchemaIssue whose detail is `<dotted path> <message>` (or just the message at the root). */
export function issueAt(path: TreePath, message: string): SchemaIssue {
  const where = dottedPath(path);
  return { path, detail: where === '' ? message : `${where} ${message}` };
}

function valueAt(tree: RawValue, path: TreePath): RawValue | undefined {
  let cur: RawValue | undefined = tree;
  for (const seg of path) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof seg === 'number') cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = isRawMap(cur) && Object.hasOwn(cur, seg) ? cur[seg] : undefined;
  }
  return cur;
}

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** Levenshtein distance between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * `did you mean "environment"?` for the first unknown key that is close (edit distance at most a
 * third of its length, at least 1) to a key of the schema objects that hold the mapping's other,
 * known keys (all closed objects when there are none).
 */
function closestKeyHint(
  value: RawValue | undefined,
  unknown: readonly string[],
  topLevel: boolean,
): string | undefined {
  const bad = new Set(unknown);
  const known = isRawMap(value) ? Object.keys(value).filter((k) => !bad.has(k)) : [];
  const closedShapes = schema().core.closedShapes();
  // the file's own top level has one shape: `servics:` is "services", not a key of some service
  const top = topLevel
    ? closedShapes.filter((keys) => keys.includes('services') && keys.includes('include'))
    : [];
  const fitting =
    top.length > 0 ? top : closedShapes.filter((keys) => known.every((k) => keys.includes(k)));
  const vocabulary = new Set((fitting.length > 0 ? fitting : closedShapes).flat());
  for (const key of unknown) {
    let best: string | undefined;
    let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
    for (const candidate of vocabulary) {
      // a key valid elsewhere but not here is no hint (`service:` at the top level)
      if (candidate === key) continue;
      const d = editDistance(key, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    if (best !== undefined) return `did you mean "${best}"?`;
  }
  return undefined;
}

function describe(tree: RawMap, issue: z.core.$ZodIssue, path: PathSegment[]): SchemaIssue {
  const missing = (): SchemaIssue => {
    const key = path[path.length - 1];
    return issueAt(path.slice(0, -1), `missing property '${String(key)}'`);
  };
  if (issue.code === 'custom') {
    return issue.message === schema().core.MISSING ? missing() : issueAt(path, issue.message);
  }
  if (issue.code === 'invalid_type') {
    if (valueAt(tree, path) === undefined && path.length > 0) return missing();
    const want =
      issue.expected === 'object' || issue.expected === 'record' ? 'mapping' : issue.expected;
    return issueAt(path, `must be a ${want}`);
  }
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const plain = issueAt(path, `additional properties ${keys} not allowed`);
    const hint = closestKeyHint(valueAt(tree, path), issue.keys, path.length === 0);
    return hint === undefined ? plain : { ...plain, hint };
  }
  return issueAt(path, issue.message.toLowerCase());
}

/** compose-go's ranking of a cause: its depth, plus one for an unknown-key error. */
function specificity(s: SchemaIssue): number {
  return s.path.length + (s.detail.includes('additional properties') ? 1 : 0);
}

/**
 * The JSON types a value failed at the issue's own path, when the issue is only a type mismatch
 * there (a type check, or a union whose every branch failed that way): `command: {a: 1}` wants
 * `array, null or string`. Undefined for any deeper or non-type problem.
 */
function typeMismatch(issue: z.core.$ZodIssue): string[] | undefined {
  if (issue.path.length > 0) return undefined;
  if (issue.code === 'invalid_type') {
    return [issue.expected === 'record' ? 'object' : issue.expected];
  }
  if (issue.code === 'custom') {
    const kinds: unknown = issue.params?.kinds;
    return issue.params?.kind === 'type' && Array.isArray(kinds) ? kinds.map(String) : undefined;
  }
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return undefined;
  const all = new Set<string>();
  for (const branch of issue.errors) {
    const [only, ...rest] = branch;
    const kinds = only && rest.length === 0 ? typeMismatch(only) : undefined;
    if (!kinds) return undefined;
    for (const k of kinds) all.add(k === 'integer' && all.has('number') ? 'number' : k);
  }
  if (all.has('number')) all.delete('integer');
  return [...all];
}

/**
 * The wanted types of a union in branch order, the first branch leading as compose-go names it
 * (`must be a mapping or array` for list_or_dict; `must be a null, string or array` for command).
 */
function branchTypes(kinds: readonly string[]): string {
  const names = kinds.map((k) => (k === 'object' ? 'mapping' : k));
  if (names.length === 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}

/**
 * compose-go reports the most specific cause of a failed `oneOf`: the deepest one, the first
 * one among equals. Other issues are reported as they are.
 */
function flatten(tree: RawMap, issue: z.core.$ZodIssue, base: PathSegment[]): SchemaIssue[] {
  const path = [...base, ...toSegments(issue.path)];
  if (issue.code !== 'invalid_union') return [describe(tree, issue, path)];
  const kinds = typeMismatch({ ...issue, path: [] });
  if (kinds && valueAt(tree, path) !== undefined) {
    return [issueAt(path, `must be a ${branchTypes(kinds)}`)];
  }
  let best: SchemaIssue | undefined;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      for (const cand of flatten(tree, inner, path)) {
        if (best === undefined || specificity(cand) > specificity(best)) best = cand;
      }
    }
  }
  return best ? [best] : [issueAt(path, 'invalid value')];
}

/** compose-go loads an empty service (`nil:` with no value) as an empty mapping. */
function withEmptyServices(tree: RawMap): RawMap {
  const services = tree.services;
  if (!isRawMap(services) || !Object.values(services).includes(null)) return tree;
  const copy: RawMap = {};
  for (const [k, v] of Object.entries(services)) copy[k] = v === null ? {} : v;
  return { ...tree, services: copy };
}

function comparePaths(a: TreePath, b: TreePath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Validates one raw compose tree against the Compose schema (compose-go's embedded
 * compose-spec.json, draft 2020-12): types, enums, patterns, bounds, required and unknown keys
 * (`x-*` admitted wherever the schema allows extensions).
 * @returns every issue, sorted by path then message; [] when the tree is valid
 */
export function validateSchema(tree: RawMap): SchemaIssue[] {
  const r = schema().spec.composeFileSchema.safeParse(withEmptyServices(tree));
  if (r.success) return [];
  const out: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const issue of r.error.issues) {
    for (const s of flatten(tree, issue, [])) {
      const key = `${formatPath(s.path)}\u0000${s.detail}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
  }
  return out.sort(
    (a, b) =>
      comparePaths(a.path, b.path) || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0),
  );
}
