/**
 * Loader phase: YAML text -> raw tree with positions, resolving anchors, aliases, merge keys and
 * scalars the way compose-go's go-yaml does, and collecting `!reset`/`!override` tags.
 * Pure: never reads files, never interpolates, never validates against the schema.
 */
import type { Alias } from 'yaml';
import {
  LineCounter,
  parseAllDocuments,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Scalar,
  visit,
  type Document,
  type Node as YamlNode,
  type Pair,
} from 'yaml';
import { ComposeError, type SourcePosition } from '../base/errors.js';
import { mergeTrees } from './merge.js';
import {
  formatPath,
  isRawMap,
  pathKey,
  type PositionIndex,
  type RawMap,
  type RawScalar,
  type RawValue,
  type TreePath,
} from './raw.js';

/** One compose file after YAML parsing. */
export interface ParsedFile {
  /** The file as given (absolute path; a display name for stdin). */
  readonly file: string;
  /** Plain data: `x-` keys kept, aliases expanded, merge keys applied, `!reset` nodes removed. */
  readonly tree: RawMap;
  /** Where each node starts (1-based line and column). */
  readonly positions: PositionIndex;
  /** Paths of nodes tagged `!reset` (removed from `tree`; they clear the base when merged). */
  readonly resets: readonly TreePath[];
  /** Paths of nodes tagged `!override` (kept in `tree`; they replace the base when merged). */
  readonly overrides: readonly TreePath[];
}

/**
 * go-yaml v3's alias-bomb guard (`decode.go` allowedAliasRatio): once more than 100 nodes came
 * from aliases and more than 1000 were decoded, the share of alias-produced nodes may be at most
 * 99% up to 400,000 nodes, falling linearly to 10% at 4,000,000.
 */
export function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - (0.89 * (decoded - 400_000)) / 3_600_000;
}

const MERGE_KEY = '<<';

/**
 * Deepest nesting accepted (go-yaml allows 10000; the JS stack of the yaml package and of the
 * later phases does not): deeper documents fail with {@link DEPTH_MESSAGE} at the deep node.
 */
export const MAX_DEPTH = 500;
const DEPTH_MESSAGE = `exceeded max depth of ${MAX_DEPTH}`;

/**
 * Parses one compose file (YAML 1.2 with go-yaml v3 scalar rules, as compose-go reads it):
 * `2122:22`, `yes`, `on` are strings; `0o17`, `017` (octal), `0x1F`, `1_000` are integers;
 * `true/True/TRUE` booleans; `~`/`null`/empty null. Anchors and aliases are expanded into
 * independent copies; `<<` merge keys (a map, or a list of maps, earlier ones winning) are applied.
 * Several documents in one file are merged in order, like compose-go.
 * @throws ComposeError `TSC_COMPOSE_PARSE` naming file:line:col for YAML syntax errors, duplicate
 *   keys (`mapping key "command" already defined at line 5`), non-string keys
 *   (`non-string key in services: 123`), a top level that is not a mapping, merge keys whose value
 *   is not a map (`map merge requires map or sequence of maps as the value`), alias cycles and
 *   alias bombs (`excessive aliasing`), nesting deeper than {@link MAX_DEPTH} (`exceeded max depth
 *   of 500`), and the key `__proto__` (`key "__proto__" is not
 *   supported`: JavaScript objects cannot carry it as a plain key).
 */
export function parseComposeYaml(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: false,
    merge: false,
    schema: 'core',
    prettyErrors: false,
  });
  const list = Array.isArray(docs) ? docs : [];
  const positions = new Map<string, SourcePosition>();
  const keyPositions = new Map<string, SourcePosition>();
  const resets: TreePath[] = [];
  const overrides: TreePath[] = [];
  let tree: RawMap | undefined;

  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      // the yaml package composes recursively: a very deep document overflows the JS stack there
      const detail = err.message.startsWith('Maximum call stack size exceeded')
        ? DEPTH_MESSAGE
        : firstLine(err.message);
      throw parseError(file, { line: pos.line, col: pos.col }, [], `yaml: ${detail}`);
    }
    const converter = new Converter(
      doc,
      file,
      lineCounter,
      positions,
      resets,
      overrides,
      keyPositions,
    );
    const value = converter.document();
    if (value === undefined) continue;
    tree = tree === undefined ? value : mergeTrees(tree, value);
  }
  const at = (path: TreePath): SourcePosition | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const p = positions.get(pathKey(path.slice(0, n)));
      if (p) return p;
    }
    return undefined;
  };
  const keyAt = (path: TreePath): SourcePosition | undefined =>
    keyPositions.get(pathKey(path)) ?? at(path);
  return { file, tree: tree ?? {}, positions: { at, keyAt }, resets, overrides };
}

/**
 * The first byte of `bytes` that breaks UTF-8 (RFC 3629: no overlong forms, no surrogates, at
 * most U+10FFFF), with go-yaml's reader wording for it; undefined when the bytes are valid.
 */
function firstInvalidUtf8(bytes: Uint8Array): { offset: number; problem: string } | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    const width =
      b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (width === 0) return { offset: i, problem: 'invalid leading UTF-8 octet' };
    if (i + width > bytes.length) return { offset: i, problem: 'incomplete UTF-8 octet sequence' };
    const b1 = bytes[i + 1] ?? 0;
    // the second byte's range narrows for E0 (overlong), ED (surrogates), F0 (overlong), F4 (max)
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return { offset: i, problem: 'invalid trailing UTF-8 octet' };
    for (let k = 2; k < width; k++) {
      const c = bytes[i + k] ?? 0;
      if (c < 0x80 || c > 0xbf) return { offset: i, problem: 'invalid trailing UTF-8 octet' };
    }
    i += width;
  }
  return undefined;
}

/**
 * Decodes a compose file's bytes as UTF-8 (a leading BOM is kept for the YAML parser to drop),
 * refusing invalid byte sequences like go-yaml instead of replacing them with U+FFFD.
 * @throws ComposeError `TSC_COMPOSE_PARSE` at the line and column of the first bad byte
 *   (`yaml: invalid leading UTF-8 octet`, `invalid trailing UTF-8 octet`, `incomplete UTF-8 octet
 *   sequence`)
 */
export function decodeComposeBytes(bytes: Uint8Array, file: string): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad === undefined)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  const before = Buffer.from(bytes.buffer, bytes.byteOffset, bad.offset).toString('utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  const col = [...before.slice(lineStart)].length + 1;
  return failUtf8(file, line, col, bad.problem);
}

function failUtf8(file: string, line: number, col: number, problem: string): never {
  throw parseError(file, { line, col }, [], `yaml: ${problem}`);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).replace(/ at line \d+, column \d+:?$/, '');
}

function parseError(
  file: string,
  position: SourcePosition | undefined,
  path: TreePath,
  detail: string,
): ComposeError {
  return ComposeError.at('TSC_COMPOSE_PARSE', { file, path: formatPath(path), position }, detail);
}

class Converter {
  private decoded = 0;
  private fromAliases = 0;
  /** Alias -> the node it names (the latest anchor of that name before it, in document order). */
  private readonly targets = new Map<Alias, YamlNode>();
  private readonly active = new Map<YamlNode, TreePath>();

  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly positions: Map<string, SourcePosition>,
    private readonly resets: TreePath[],
    private readonly overrides: TreePath[],
    private readonly keyPositions: Map<string, SourcePosition>,
  ) {
    // yaml's Alias.resolve walks the whole document on each call; index anchors once instead.
    const anchors = new Map<string, YamlNode>();
    visit(doc, {
      Alias: (_key, alias) => {
        const target = anchors.get(alias.source);
        if (target) this.targets.set(alias, target);
      },
      Node: (_key, node) => {
        if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  /** The document's top-level map, or undefined for an empty document. */
  document(): RawMap | undefined {
    const root = this.doc.contents;
    if (root === null) return undefined;
    if (isScalar(root) && (root.value === null || root.value === undefined)) return undefined;
    const value = this.node(root, [], false);
    if (value === null) return undefined;
    if (!isRawMap(value)) {
      throw parseError(this.file, this.pos(root), [], 'top-level object must be a mapping');
    }
    this.positions.set(pathKey([]), this.pos(root) ?? { line: 1, col: 1 });
    return value;
  }

  private pos(node: YamlNode | null | undefined): SourcePosition | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  private record(path: TreePath, node: YamlNode | null | undefined, viaAlias: boolean): void {
    this.decoded++;
    if (viaAlias) {
      this.fromAliases++;
      if (
        this.fromAliases > 100 &&
        this.decoded > 1000 &&
        this.fromAliases / this.decoded > allowedAliasRatio(this.decoded)
      ) {
        throw parseError(
          this.file,
          this.pos(node),
          path,
          'yaml: document contains excessive aliasing',
        );
      }
      return;
    }
    const p = this.pos(node);
    if (p) this.positions.set(pathKey(path), p);
  }

  /** Converts a node; `viaAlias` is true inside an expanded alias (positions are not recorded). */
  private node(node: YamlNode | null | undefined, path: TreePath, viaAlias: boolean): RawValue {
    if (node === null || node === undefined) return null;
    if (path.length > MAX_DEPTH) {
      throw parseError(this.file, this.pos(node), path.slice(0, 3), `yaml: ${DEPTH_MESSAGE}`);
    }
    if (isAlias(node)) return this.alias(node, path);
    this.record(path, node, viaAlias);
    if (this.active.has(node)) {
      throw parseError(this.file, this.pos(node), path, 'yaml: alias references its own ancestor');
    }
    this.active.set(node, path);
    try {
      if (isMap(node)) return this.map(node.items, path, viaAlias);
      if (isSeq(node))
        return node.items.map((item, i) => this.node(item as YamlNode, [...path, i], viaAlias));
      if (isScalar(node)) return scalarValue(node);
      return null;
    } finally {
      this.active.delete(node);
    }
  }

  /**
   * Expands an alias at `path`. For a merge-key source (`inMerge`), `path` is the mapping that holds
   * `<<`, and a cycle is reported the way compose-go words it.
   */
  private alias(alias: Alias, path: TreePath, inMerge = false): RawValue {
    const target = this.targets.get(alias);
    if (!target) {
      throw parseError(
        this.file,
        this.pos(alias),
        path,
        `yaml: unknown anchor '${alias.source}' referenced`,
      );
    }
    const ancestorPath = this.active.get(target);
    if (ancestorPath !== undefined) {
      const from = inMerge ? [...path, path[path.length - 1] ?? ''] : path;
      const to = inMerge ? path : ancestorPath;
      throw parseError(
        this.file,
        this.pos(alias),
        path,
        `cycle detected: node at path ${formatPath(from)} references node at path ${formatPath(to)}`,
      );
    }
    const p = this.pos(alias);
    if (p && !this.positions.has(pathKey(path))) this.positions.set(pathKey(path), p);
    return this.node(target, path, true);
  }

  private map(pairs: readonly Pair[], path: TreePath, viaAlias: boolean): RawMap {
    const out: RawMap = {};
    const seen = new Map<string, number>();
    const merged: RawMap[] = [];
    for (const pair of pairs) {
      const keyNode = pair.key as YamlNode | null;
      const valueNode = pair.value as YamlNode | null;
      if (isMergeKey(keyNode)) {
        merged.push(...this.mergeSources(valueNode, path));
        continue;
      }
      const key = this.key(keyNode, path);
      const keyLine = this.pos(keyNode)?.line ?? 0;
      const first = seen.get(key);
      if (first !== undefined) {
        throw parseError(
          this.file,
          this.pos(keyNode),
          path,
          `yaml: line ${keyLine}: mapping key ${JSON.stringify(key)} already defined at line ${first}`,
        );
      }
      seen.set(key, keyLine);
      const childPath = [...path, key];
      const tag = isAlias(valueNode) ? undefined : valueNode?.tag;
      if (tag === '!reset') {
        this.resets.push(childPath);
        continue;
      }
      if (tag === '!override') this.overrides.push(childPath);
      if (!viaAlias) {
        const kp = this.pos(keyNode);
        if (kp) this.keyPositions.set(pathKey(childPath), kp);
      }
      if (valueNode === null || valueNode === undefined) this.record(childPath, keyNode, viaAlias);
      out[key] = this.node(valueNode, childPath, viaAlias);
      if (valueNode && isScalar(valueNode) && valueNode.value === null && !viaAlias) {
        // An empty value: point at the key, which is what users see.
        const kp = this.pos(keyNode);
        if (kp) this.positions.set(pathKey(childPath), kp);
      }
    }
    if (merged.length === 0) return out;
    // Merge keys: explicit keys win, then earlier merge sources over later ones.
    const result: RawMap = {};
    for (let i = merged.length - 1; i >= 0; i--) Object.assign(result, merged[i]);
    for (const [k, v] of Object.entries(out)) {
      delete result[k];
      result[k] = v;
    }
    return result;
  }

  private mergeSources(valueNode: YamlNode | null, path: TreePath): RawMap[] {
    const fail = (): ComposeError =>
      parseError(
        this.file,
        this.pos(valueNode),
        path,
        'yaml: map merge requires map or sequence of maps as the value',
      );
    const resolved = isAlias(valueNode) ? this.targets.get(valueNode) : valueNode;
    if (isSeq(resolved)) {
      return resolved.items.map((item) => {
        const v = isAlias(item)
          ? this.alias(item, path, true)
          : this.node(item as YamlNode, path, true);
        if (!isRawMap(v)) throw fail();
        return v;
      });
    }
    const v = isAlias(valueNode)
      ? this.alias(valueNode, path, true)
      : this.node(valueNode, path, true);
    if (!isRawMap(v)) throw fail();
    return [v];
  }

  private key(keyNode: YamlNode | null, path: TreePath): string {
    const where = path.length === 0 ? 'at top level' : `in ${formatPath(path)}`;
    if (isScalar(keyNode)) {
      const v = scalarValue(keyNode);
      if (v === '__proto__') {
        throw parseError(this.file, this.pos(keyNode), path, 'key "__proto__" is not supported');
      }
      if (typeof v === 'string') return v;
      throw parseError(this.file, this.pos(keyNode), path, `non-string key ${where}: ${String(v)}`);
    }
    if (isAlias(keyNode)) {
      const target = this.targets.get(keyNode);
      if (isScalar(target)) return this.key(target, path);
    }
    throw parseError(this.file, this.pos(keyNode), path, `non-string key ${where}`);
  }
}

const CORE_TAG = 'tag:yaml.org,2002:';

/** A `<<` merge key: plain, or explicitly tagged `!!merge` (go-yaml `isMerge`). */
function isMergeKey(node: YamlNode | null): boolean {
  if (!isScalar(node) || node.source !== MERGE_KEY) return false;
  if (node.tag === undefined) return node.type === Scalar.PLAIN;
  return node.tag === `${CORE_TAG}merge` || node.tag === '!!merge' || node.tag === '!';
}

/** The value of a scalar: plain scalars with go-yaml v3 rules, quoted and block ones as strings. */
function scalarValue(node: Scalar): RawScalar {
  const tag = node.tag;
  const text = scalarText(node);
  if (tag === `${CORE_TAG}str` || tag === '!!str') return text;
  if (tag !== undefined && tag !== '!reset' && tag !== '!override' && tag.startsWith(CORE_TAG)) {
    const v = node.value;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  if (node.type !== Scalar.PLAIN) return text;
  return resolvePlain(text);
}

/** The scalar's source text (plain) or its string value (quoted, block). */
function scalarText(node: Scalar): string {
  if (node.type !== Scalar.PLAIN && typeof node.value === 'string') return node.value;
  if (typeof node.source === 'string') return node.source;
  const v: unknown = node.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

const INT_RE = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Resolves a plain scalar like go-yaml v3 (`resolve.go`): null, booleans (YAML 1.2 words only),
 * integers through Go's `ParseInt(s, 0, 64)` after removing `_` (so `0440` is octal), floats,
 * `.inf`/`.nan`; everything else (including timestamps and `2122:22`) is a string.
 */
export function resolvePlain(s: string): RawScalar {
  switch (s) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
    case '.inf':
    case '.Inf':
    case '.INF':
    case '+.inf':
    case '+.Inf':
    case '+.INF':
      return Number.POSITIVE_INFINITY;
    case '-.inf':
    case '-.Inf':
    case '-.INF':
      return Number.NEGATIVE_INFINITY;
    case '.nan':
    case '.NaN':
    case '.NAN':
      return Number.NaN;
    default:
      break;
  }
  if (!/^[-+.0-9]/.test(s)) return s;
  const plain = s.replace(/_/g, '');
  if (INT_RE.test(plain)) {
    const neg = plain.startsWith('-');
    const body = plain.replace(/^[-+]/, '');
    let v: number;
    if (/^0[xX]/.test(body)) v = Number.parseInt(body.slice(2), 16);
    else if (/^0[oO]/.test(body)) v = Number.parseInt(body.slice(2), 8);
    else if (/^0[bB]/.test(body)) v = Number.parseInt(body.slice(2), 2);
    else if (body.length > 1 && body.startsWith('0')) v = Number.parseInt(body.slice(1), 8);
    else v = Number.parseInt(body, 10);
    if (Math.abs(v) <= 2 ** 63) return neg ? -v : v;
  }
  if (FLOAT_RE.test(plain)) {
    // go-yaml keeps a float that overflows float64 (`1e400`) as a string
    const f = Number(plain);
    return Number.isFinite(f) ? f : s;
  }
  return s;
}
