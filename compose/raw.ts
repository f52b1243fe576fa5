/**
 * The raw compose tree shared by the loader's phases: plain JSON-like data (no classes, no YAML
 * nodes), plus key paths and the position index that lets any phase name `file:line:col`.
 * Pure types and helpers; no I/O.
 */
import type { SourcePosition } from '../base/errors.js';

/** A YAML scalar after parsing (YAML 1.2 core schema; `2122:22` stays a string). */
export type RawScalar = string | number | boolean | null;
/** Any raw value. */
export type RawValue = RawScalar | RawValue[] | RawMap;
/** A raw mapping; keys are always strings. */
export interface RawMap {
  [key: string]: RawValue;
}

/** One step of a key path: a map key or a list index. */
export type PathSegment = string | number;
/** A key path from the document root, e.g. `['services', 'web', 'ports', 0]`. */
export type TreePath = readonly PathSegment[];

/** Renders a path the way users typed it: `services.web.ports[0]`; '' for the root. */
export function formatPath(path: TreePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** A stable string key for a path (used by position indexes and sets of paths). */
export function pathKey(path: TreePath): string {
  return path.map((s) => (typeof s === 'number' ? `#${s}` : `.${s}`)).join('');
}

/** Position lookup for one parsed file: where the node at a path starts (its value, or its key). */
export interface PositionIndex {
  /** The position of the node at `path`, or of its nearest ancestor that has one. */
  at(path: TreePath): SourcePosition | undefined;
  /** The position of the key that names the node at `path` (falls back to {@link at}). */
  keyAt?(path: TreePath): SourcePosition | undefined;
}

/** True for a plain raw mapping (not a list, not null). */
export function isRawMap(v: unknown): v is RawMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
