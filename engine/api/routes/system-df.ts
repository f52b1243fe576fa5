/**
 * `GET /system/df` (API `SystemDataUsage`): the `type` query (API 1.42+: `container`, `image`,
 * `volume`, `build-cache`, repeatable) checked and handed to the data-usage provider. Parsing only.
 */
import { EngineError } from '../../../base/errors.js';
import type { Router } from '../router.js';
import { DATA_USAGE_TYPES, type DataUsageType, type OperationContext } from '../services.js';
import { compareApiVersions } from '../version.js';

/** Computes the `/system/df` body for the asked sections (an empty set = all). */
export type DataUsageProvider = (
  types: ReadonlySet<DataUsageType>,
  ctx: OperationContext,
) => Promise<unknown>;

/** Registers `GET /system/df` over `provider`. */
export function registerDataUsageRoute(router: Router, provider: DataUsageProvider): void {
  router.add('GET', '/system/df', async (ctx) => {
    const types = new Set<DataUsageType>();
    if (compareApiVersions(ctx.apiVersion, '1.42') >= 0) {
      for (const t of ctx.query.getAll('type')) {
        if (!(DATA_USAGE_TYPES as readonly string[]).includes(t)) {
          throw new EngineError(
            'TSC_ENGINE_INVALID',
            { kind: 'query', name: 'type' },
            `unknown object type: ${t}`,
          );
        }
        types.add(t as DataUsageType);
      }
    }
    return { json: await provider(types, { apiVersion: ctx.apiVersion, signal: ctx.signal }) };
  });
}
