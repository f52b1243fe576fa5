/**
 * The config hash of a service: decides whether `up` recreates its containers (docker compose
 * `ServiceHash`: the service's JSON without the fields that do not change the container).
 * Pure; stable across runs (keys sorted).
 */
import type * as Crypto from 'node:crypto';

import { lazyModule } from '../base/lazy.js';
import type { Service } from './model.js';

/** node:crypto on first use: a command that hashes no service (down, ps, logs) never loads it. */
const crypto = lazyModule<typeof Crypto>('node:crypto');

/** Keys that never force a recreate: scale and replica counts, build recipe, dependency edges. */
const EXCLUDED = new Set(['build', 'scale', 'depends_on', 'pull_policy', 'develop', 'profiles']);

/** Serialises a value as JSON with object keys sorted, recursively. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * sha256 hex of the service's stable JSON without {@link EXCLUDED} keys and without
 * `deploy.replicas`.
 */
export function serviceConfigHash(service: Service): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(service)) if (!EXCLUDED.has(k)) copy[k] = v;
  const deploy = copy.deploy;
  if (deploy !== null && typeof deploy === 'object') {
    const { replicas: _r, ...rest } = deploy as Record<string, unknown>;
    copy.deploy = rest;
  }
  return crypto().createHash('sha256').update(stableJson(copy)).digest('hex');
}
