/**
 * Zod building blocks for the Compose schema (compose/schema/spec.ts): JSON-schema-like type
 * unions, closed objects that still admit `x-*` keys, named maps and unique lists. Each failure
 * carries the compose-go (santhosh-tekuri/jsonschema) wording in its message. No I/O.
 */
import { z } from 'zod';

import { lazy } from '../../base/lazy.js';

/** A JSON-schema `type` name as the Compose schema uses them. */
export type JsonKind = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'object' | 'array';

/** Extra scalar constraints of a JSON-schema node. */
export interface ScalarRules {
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** The JSON kinds a raw value belongs to (`1` is both integer and number). */
export function kindsOf(v: unknown): JsonKind[] {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'string') return ['string'];
  if (typeof v === 'boolean') return ['boolean'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  if (typeof v === 'object') return ['object'];
  return [];
}

/** compose-go's wording of a wanted type list: `mapping`, `boolean, null, number or string`. */
export function humanTypes(kinds: readonly string[]): string {
  const names = kinds.map((k) => (k === 'object' && kinds.length === 1 ? 'mapping' : k));
  if (names.length === 1) return names[0] ?? '';
  const sorted = names.map((k) => (k === 'object' ? 'mapping' : k)).sort();
  return `${sorted.slice(0, -1).join(', ')} or ${sorted[sorted.length - 1] ?? ''}`;
}

/** Marks an issue raised for a missing required property (rewritten by the issue mapper). */
export const MISSING = 'missing';

function quoteJson(v: unknown): string {
  return JSON.stringify(v);
}

/**
 * Adds the `missing` or `type` issue when `v` is absent or of none of `kinds`; true when it is of
 * one of them (the caller goes on with its own rules).
 */
function checkKind(v: unknown, kinds: readonly JsonKind[], ctx: z.RefinementCtx): boolean {
  if (v === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: MISSING,
      params: { kind: 'missing' },
      continue: false,
    });
    return false;
  }
  const have = kindsOf(v);
  if (kinds.some((k) => have.includes(k))) return true;
  ctx.addIssue({
    code: 'custom',
    message: `must be a ${humanTypes(kinds)}`,
    params: { kind: 'type', kinds },
    continue: false,
  });
  return false;
}

/**
 * The rule-less {@link types} schemas and their optional forms, one per kind list: the Compose
 * schema asks for `types(['string'])` some 150 times, and every zod schema built costs start-up
 * time of each command (~35 µs; zod schemas are immutable, so sharing one is safe).
 */
const plainTypes = new Map<string, z.ZodType>();
const plainOptionalTypes = new Map<string, z.ZodType>();

/**
 * A value of one of `kinds` (primitive kinds only), with optional enum/pattern/min/max rules.
 * Messages: `must be a string`, `must be greater than or equal to 0`, `value must be one of ...`.
 * Without rules the schema is shared by every caller asking for the same kinds.
 */
export function types(kinds: readonly JsonKind[], rules?: ScalarRules): z.ZodType {
  if (rules !== undefined) return typesWithRules(kinds, rules);
  return sharedFor(plainTypes, kinds, () => typesWithRules(kinds, {}));
}

/** `types(kinds).optional()`, shared by every caller asking for the same kinds. */
export function optTypes(kinds: readonly JsonKind[]): z.ZodType {
  return sharedFor(plainOptionalTypes, kinds, () => types(kinds).optional());
}

/** The schema `cache` holds for `kinds`, made by `make` the first time. */
function sharedFor(
  cache: Map<string, z.ZodType>,
  kinds: readonly JsonKind[],
  make: () => z.ZodType,
): z.ZodType {
  const key = kinds.join('|');
  let schema = cache.get(key);
  if (schema === undefined) {
    schema = make();
    cache.set(key, schema);
  }
  return schema;
}

function typesWithRules(kinds: readonly JsonKind[], rules: ScalarRules): z.ZodType {
  const pattern = rules.pattern === undefined ? undefined : new RegExp(rules.pattern, 'u');
  return z.unknown().superRefine((v, ctx) => {
    if (!checkKind(v, kinds, ctx)) return;
    if (rules.enum && !rules.enum.includes(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `value must be one of ${rules.enum.map(quoteJson).join(', ')}`,
        params: { kind: 'enum' },
        continue: false,
      });
    }
    if (rules.pattern !== undefined && typeof v === 'string' && !(pattern?.test(v) ?? true)) {
      ctx.addIssue({
        code: 'custom',
        message: `'${v}' does not match pattern '${rules.pattern}'`,
        params: { kind: 'pattern' },
        continue: false,
      });
    }
    if (typeof v === 'number') {
      if (rules.minimum !== undefined && v < rules.minimum) {
        ctx.addIssue({
          code: 'custom',
          message: `must be greater than or equal to ${rules.minimum}`,
          params: { kind: 'minimum' },
          continue: false,
        });
      }
      if (rules.maximum !== undefined && v > rules.maximum) {
        ctx.addIssue({
          code: 'custom',
          message: `must be less than or equal to ${rules.maximum}`,
          params: { kind: 'maximum' },
          continue: false,
        });
      }
    }
  });
}

/** Re-raises a nested schema's issue under `prefix` (relative to the current value). */
function forward(
  ctx: z.RefinementCtx,
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
): void {
  ctx.addIssue({
    ...issue,
    path: [...prefix, ...issue.path],
    continue: false,
  });
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withoutExtensions(v: unknown): unknown {
  if (!isPlainMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('x-')) out[k] = val;
  return out;
}

/** A {@link deferred} schema's place in {@link shapes}: the shapes its builder defines, once built. */
interface DeferredSlot {
  readonly build: () => z.ZodType;
  built: ShapeEntry[] | undefined;
}

type ShapeEntry = readonly string[] | DeferredSlot;

/**
 * The key lists of every closed object of the schema, in definition order (a deferred schema's
 * in its place): where an unknown key is reported, the closest known key is offered as a hint
 * (`did you mean "environment"?`). Only {@link strict} and {@link strictX} add to it, through
 * {@link addShape}, into the deferred schema being built if any.
 */
const shapes: ShapeEntry[] = [];
let shapeTarget: ShapeEntry[] = shapes;

function addShape(keys: readonly string[]): void {
  shapeTarget.push(keys);
}

/**
 * The key lists of every closed object of the schema, in definition order. Builds every
 * {@link deferred} schema first (only error hints ask, so only a failing file pays for it).
 */
export function closedShapes(): (readonly string[])[] {
  const out: (readonly string[])[] = [];
  const walk = (entries: readonly ShapeEntry[]): void => {
    for (const e of entries) {
      if (Array.isArray(e)) out.push(e);
      else {
        const slot = e as DeferredSlot;
        slot.build();
        walk(slot.built ?? []);
      }
    }
  };
  walk(shapes);
  return out;
}

/**
 * A schema built on its first parse, for the parts of the Compose schema most files never use
 * (deploy, develop, networks' and volumes' long forms...): building zod schemas is a start-up
 * cost of every command. Parses as `make()` would, its issues re-raised in place. Not for a
 * required key: absent, it is reported as zod's own `nonoptional`, not as missing.
 */
export function deferred(make: () => z.ZodType): z.ZodType {
  const slot: DeferredSlot = {
    // the shapes the builder defines go into this slot, in their place
    build: lazy(() => {
      const outer = shapeTarget;
      shapeTarget = slot.built = [];
      try {
        return make();
      } finally {
        shapeTarget = outer;
      }
    }),
    built: undefined,
  };
  shapeTarget.push(slot);
  return z.unknown().superRefine((v, ctx) => {
    const r = slot.build().safeParse(v);
    if (!r.success) for (const issue of r.error.issues) forward(ctx, issue, []);
  });
}

/** A closed object: unknown keys are rejected (`additional properties 'foo' not allowed`). */
export function strict(shape: z.ZodRawShape): z.ZodType {
  addShape(Object.keys(shape));
  return z.strictObject(shape);
}

/** A closed object that also admits `x-*` extension keys (schema `patternProperties: ^x-`). */
export function strictX(shape: z.ZodRawShape): z.ZodType {
  addShape(Object.keys(shape));
  return z.preprocess(withoutExtensions, z.strictObject(shape));
}

/** An open object: listed keys are checked, others pass. */
export function loose(shape: z.ZodRawShape): z.ZodType {
  return z.looseObject(shape);
}

/** Any mapping. */
export function anyMap(): z.ZodType {
  return z.record(z.string(), z.unknown());
}

/**
 * A mapping whose keys must match `pattern` (schema `patternProperties` + `additionalProperties:
 * false`); keys that do not match are reported as additional properties, `x-*` keys pass.
 */
export function namedMap(pattern: string, value: z.ZodType): z.ZodType {
  const re = new RegExp(pattern, 'u');
  return z.record(z.string(), z.unknown()).superRefine((v, ctx) => {
    const bad: string[] = [];
    for (const [k, val] of Object.entries(v)) {
      if (!re.test(k)) {
        if (!k.startsWith('x-')) bad.push(k);
        continue;
      }
      const r = value.safeParse(val);
      if (!r.success) for (const issue of r.error.issues) forward(ctx, issue, [k]);
    }
    if (bad.length > 0)
      ctx.addIssue({ code: 'unrecognized_keys', keys: bad, input: v, continue: false });
  });
}

/** A mapping whose keys matching `pattern` are checked; other keys pass unchecked. */
export function openMap(pattern: string, value: z.ZodType): z.ZodType {
  const re = new RegExp(pattern, 'u');
  return z.record(z.string(), z.unknown()).superRefine((v, ctx) => {
    for (const [k, val] of Object.entries(v)) {
      if (!re.test(k)) continue;
      const r = value.safeParse(val);
      if (!r.success) for (const issue of r.error.issues) forward(ctx, issue, [k]);
    }
  });
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** A list whose items must all differ (schema `uniqueItems`): `items at 0 and 2 are equal`. */
export function uniqueList(item: z.ZodType): z.ZodType {
  return z.array(item).superRefine((v, ctx) => {
    const seen = new Map<string, number>();
    v.forEach((x, i) => {
      const key = canonicalJson(x);
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `items at ${first} and ${i} are equal`,
          params: { kind: 'unique' },
          continue: false,
        });
      } else seen.set(key, i);
    });
  });
}

/**
 * A value whose `type` lists `object` next to primitive kinds (`external: bool|string|object`,
 * `networks.x: object|null`); objects are checked by `objectSchema`.
 */
export function mixed(kinds: readonly JsonKind[], objectSchema: z.ZodType): z.ZodType {
  return z.unknown().superRefine((v, ctx) => {
    if (!checkKind(v, kinds, ctx)) return;
    if (isPlainMap(v)) {
      const r = objectSchema.safeParse(v);
      if (!r.success) for (const issue of r.error.issues) forward(ctx, issue, []);
    }
  });
}
