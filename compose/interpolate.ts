/**
 * Loader phase: variable interpolation of a raw compose tree (`${VAR}`, `${VAR:-d}`, `$$`, ...),
 * then compose-go's type casts for the paths whose schema type is not a string.
 * Owns the template language only; it never reads files or the process environment itself.
 */
import { ComposeError, type ComposeLocation } from '../base/errors.js';
import {
  formatPath,
  isRawMap,
  type PositionIndex,
  type RawMap,
  type RawValue,
  type TreePath,
} from './raw.js';

/** A variable lookup: the value, or undefined when the variable is not set (''= set but empty). */
export type VariableLookup = (name: string) => string | undefined;

/** One use of an unset variable without a default, found while interpolating a tree. */
export interface InterpolationWarning {
  /** The variable name (`FOO`). */
  readonly variable: string;
  /** Where it was used. */
  readonly path: TreePath;
}

/**
 * The warning text docker compose prints on stderr for an unset variable, exactly:
 * `WARN[0000] The "FOO" variable is not set. Defaulting to a blank string.`
 */
export function renderInterpolationWarning(w: InterpolationWarning): string {
  return `WARN[0000] The "${w.variable}" variable is not set. Defaulting to a blank string.`;
}

/** Options of {@link substitute}. */
export interface SubstituteOptions {
  /** Where the template is, for error messages (file, key path, position). */
  readonly at?: ComposeLocation | undefined;
  /** Called once per use of an unset variable that has no default (lazily: unused branches never call it). */
  readonly onUnset?: ((name: string) => void) | undefined;
}

/** The hint attached to invalid-template errors. */
export const ESCAPE_HINT = 'escape "$" as "$$"';

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:-|:\?|:\+|-|\?|\+)([\s\S]*))?$/;

type Operator = ':-' | ':?' | ':+' | '-' | '?' | '+';

/**
 * Substitutes variables in one string with compose-go's template rules
 * (compose-spec "Interpolation"; compose-go `template.Substitute`):
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
 * `${VAR:+replacement}`, `${VAR+replacement}`; defaults, replacements and error messages may nest
 * further templates and are evaluated only when used; `$$` is a literal `$`; a `$` not followed by
 * a name or `{` stays as it is.
 * @throws ComposeError `TSC_COMPOSE_INTERPOLATE` for an invalid template (`invalid template: "${"`,
 *   hint `escape "$" as "$$"`) or a required variable that is unset
 *   (`required variable X is missing a value: <message>`), and for templates nested deeper than
 *   {@link MAX_TEMPLATE_NESTING} levels (`${A:-${B:-...}}`; refused rather than overflowing the stack).
 */
export function substitute(
  template: string,
  lookup: VariableLookup,
  options: SubstituteOptions = {},
): string {
  return substituteAt(template, lookup, options, 0);
}

/**
 * How deep `${VAR:-${...}}` templates may nest (defaults, replacements, error messages). compose-go
 * has no limit of its own (Go stacks grow); ours is well above any real file and keeps the
 * recursive evaluation far from Node's stack limit.
 */
export const MAX_TEMPLATE_NESTING = 1000;

function substituteAt(
  template: string,
  lookup: VariableLookup,
  options: SubstituteOptions,
  depth: number,
): string {
  if (!template.includes('$')) return template;
  if (depth > MAX_TEMPLATE_NESTING) throw tooDeep(options);
  let out = '';
  let i = 0;
  const n = template.length;
  while (i < n) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = matchingBrace(template, dollar + 2);
      if (close < 0) throw invalidTemplate(template, options);
      out += evaluateBraced(template.slice(dollar + 2, close), template, lookup, options, depth);
      i = close + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = dollar + 2;
      while (j < n && NAME_CHAR.test(template[j] ?? '')) j++;
      const name = template.slice(dollar + 1, j);
      const value = lookup(name);
      if (value === undefined) options.onUnset?.(name);
      out += value ?? '';
      i = j;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose content starts at `from`, counting nested braces; -1 if none. */
function matchingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function evaluateBraced(
  content: string,
  template: string,
  lookup: VariableLookup,
  options: SubstituteOptions,
  depth: number,
): string {
  const m = BRACED.exec(content);
  if (!m) throw invalidTemplate(template, options);
  const name = m[1] ?? '';
  const op = m[2] as Operator | undefined;
  const arg = m[3] ?? '';
  const value = lookup(name);
  const nested = (): string => substituteAt(arg, lookup, options, depth + 1);
  switch (op) {
    case undefined:
      if (value === undefined) options.onUnset?.(name);
      return value ?? '';
    case ':-':
      return value === undefined || value === '' ? nested() : value;
    case '-':
      return value === undefined ? nested() : value;
    case ':+':
      return value === undefined || value === '' ? '' : nested();
    case '+':
      return value === undefined ? '' : nested();
    case ':?':
      if (value === undefined || value === '') throw missingRequired(name, nested(), options);
      return value;
    case '?':
      if (value === undefined) throw missingRequired(name, nested(), options);
      return value;
  }
}

function location(options: SubstituteOptions): ComposeLocation {
  return options.at ?? { file: '', path: '' };
}

function invalidTemplate(template: string, options: SubstituteOptions): ComposeError {
  return ComposeError.at(
    'TSC_COMPOSE_INTERPOLATE',
    location(options),
    `invalid interpolation format: invalid template: ${JSON.stringify(template)}`,
    { hint: ESCAPE_HINT },
  );
}

function tooDeep(options: SubstituteOptions): ComposeError {
  return ComposeError.at(
    'TSC_COMPOSE_INTERPOLATE',
    location(options),
    `invalid interpolation format: templates nested more than ${MAX_TEMPLATE_NESTING} levels deep`,
  );
}

function missingRequired(name: string, message: string, options: SubstituteOptions): ComposeError {
  const detail = `required variable ${name} is missing a value${message ? `: ${message}` : ''}`;
  return ComposeError.at('TSC_COMPOSE_INTERPOLATE', location(options), detail);
}

// ---------------------------------------------------------------------------------------------
// Whole-tree interpolation

/** The input of {@link interpolateTree}: a parsed file, or any tree with its file and positions. */
export interface InterpolationSource {
  /** The file name used in error messages. */
  readonly file: string;
  /** The raw tree (not modified). */
  readonly tree: RawMap;
  /** Positions of the tree's nodes, for error messages. */
  readonly positions?: PositionIndex | undefined;
}

/**
 * Interpolates every string value of a raw tree (keys are not interpolated; `x-` extensions are),
 * then applies compose-go's type casts (see {@link castInterpolated}) to the paths whose schema
 * type is a number or a boolean, so that `replicas: ${N}` becomes a number. Returns a new tree.
 * `onWarning` is called once per use of an unset variable (in tree order).
 * @throws ComposeError `TSC_COMPOSE_INTERPOLATE` with file:line:col and key path (see
 *   {@link substitute}), or when a cast fails (`services.web.deploy.replicas: "x" is not a number`).
 */
export function interpolateTree(
  source: InterpolationSource,
  env: VariableLookup,
  onWarning: (w: InterpolationWarning) => void,
): RawMap {
  const walk = (value: RawValue, path: PathSegmentList): RawValue => {
    if (typeof value === 'string') {
      // compose-go casts every string at a typed path, substituted or not (`cpus: many` fails)
      if (!value.includes('$') && castFor(path) === undefined) return value;
      const at: ComposeLocation = {
        file: source.file,
        path: formatPath(path),
        position: source.positions?.at(path),
      };
      const substituted = value.includes('$')
        ? substitute(value, env, {
            at,
            onUnset: (variable) => onWarning({ variable, path: [...path] }),
          })
        : value;
      return castInterpolated(substituted, path, at);
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (isRawMap(value)) {
      const out: RawMap = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return value;
  };
  return walk(source.tree, []) as RawMap;
}

type PathSegmentList = (string | number)[];

/** Which cast a path pattern gets; `*` matches any one segment (a map key or a list index). */
type Cast = 'int' | 'float' | 'bool';

/** compose-go `loader/interpolate.go` interpolateTypeCastMapping, for paths under a service. */
const SERVICE_CASTS: readonly (readonly [string, Cast])[] = [
  ['cpu_count', 'int'],
  ['cpu_percent', 'float'],
  ['cpu_period', 'int'],
  ['cpu_quota', 'int'],
  ['cpu_rt_period', 'int'],
  ['cpu_rt_runtime', 'int'],
  ['cpus', 'float'],
  ['cpu_shares', 'int'],
  ['init', 'bool'],
  ['depends_on.*.required', 'bool'],
  ['depends_on.*.restart', 'bool'],
  ['deploy.replicas', 'int'],
  ['deploy.update_config.parallelism', 'int'],
  ['deploy.update_config.max_failure_ratio', 'float'],
  ['deploy.rollback_config.parallelism', 'int'],
  ['deploy.rollback_config.max_failure_ratio', 'float'],
  ['deploy.restart_policy.max_attempts', 'int'],
  ['deploy.placement.max_replicas_per_node', 'int'],
  ['env_file.*.required', 'bool'],
  ['healthcheck.retries', 'int'],
  ['healthcheck.disable', 'bool'],
  ['oom_kill_disable', 'bool'],
  ['oom_score_adj', 'int'],
  ['pids_limit', 'int'],
  ['ports.*.target', 'int'],
  ['privileged', 'bool'],
  ['read_only', 'bool'],
  ['scale', 'int'],
  ['stdin_open', 'bool'],
  ['tty', 'bool'],
  ['ulimits.*', 'int'],
  ['ulimits.*.hard', 'int'],
  ['ulimits.*.soft', 'int'],
  ['volumes.*.read_only', 'bool'],
  ['volumes.*.volume.nocopy', 'bool'],
  ['volumes.*.tmpfs.mode', 'int'],
];

const TOP_CASTS: readonly (readonly [string, Cast])[] = [
  ...SERVICE_CASTS.map(([p, c]) => [`services.*.${p}`, c] as const),
  ['networks.*.external', 'bool'],
  ['networks.*.internal', 'bool'],
  ['networks.*.attachable', 'bool'],
  ['networks.*.enable_ipv4', 'bool'],
  ['networks.*.enable_ipv6', 'bool'],
  ['volumes.*.external', 'bool'],
  ['secrets.*.external', 'bool'],
  ['configs.*.external', 'bool'],
];

const CASTS: ReadonlyMap<string, Cast> = new Map(TOP_CASTS.map(([p, c]) => [p, c]));
const CAST_ROOTS: ReadonlySet<string> = new Set(TOP_CASTS.map(([p]) => p.split('.')[0] ?? ''));

/** The cast for a path, trying each segment as itself and as `*`. */
function castFor(path: TreePath): Cast | undefined {
  // Paths are short (< 8 segments); try the most specific pattern first.
  const segs = path.map(String);
  const tryFrom = (i: number, acc: string[]): Cast | undefined => {
    if (i === segs.length) return CASTS.get(acc.join('.'));
    return (
      tryFrom(i + 1, [...acc, segs[i] ?? '']) ??
      (i === 0 ? undefined : tryFrom(i + 1, [...acc, '*']))
    );
  };
  if (segs.length > 8 || !CAST_ROOTS.has(segs[0] ?? '')) return undefined;
  return tryFrom(0, []);
}

const TRUE_WORDS = new Set(['y', 'yes', 'true', 'on']);
const FALSE_WORDS = new Set(['n', 'no', 'false', 'off']);

/**
 * compose-go's post-interpolation casts (`interpolation.go` / loader `interpolateTypeCastMapping`):
 * an interpolated string at a number or boolean path becomes a number or boolean
 * (booleans accept y/yes/true/on and n/no/false/off, any case). Strings at other paths are kept.
 * @throws ComposeError `TSC_COMPOSE_INTERPOLATE` when the value does not convert.
 */
export function castInterpolated(value: string, path: TreePath, at: ComposeLocation): RawValue {
  const cast = castFor(path);
  if (cast === undefined) return value;
  const fail = (what: string): ComposeError =>
    ComposeError.at(
      'TSC_COMPOSE_INTERPOLATE',
      at,
      `failed to cast to expected type: ${JSON.stringify(value)} is not ${what}`,
    );
  switch (cast) {
    case 'int': {
      if (/^[-+]?\d+$/.test(value)) return Number.parseInt(value, 10);
      throw fail('an integer');
    }
    case 'float': {
      const t = value.trim();
      if (t !== '' && Number.isFinite(Number(t))) return Number(t);
      throw fail('a number');
    }
    case 'bool': {
      const t = value.toLowerCase();
      if (TRUE_WORDS.has(t)) return true;
      if (FALSE_WORDS.has(t)) return false;
      throw fail('a boolean');
    }
  }
}
