/**
 * Values and modules made on first use instead of at import: for code paths most processes never
 * take (the CLI's start is paid by every command, the engine's RSS by every host). Owns only the
 * deferral; callers keep `import type` for the types.
 */
import { createRequire } from 'node:module';

const load = createRequire(__filename);

/**
 * A getter that calls `make` on its first call and returns that value afterwards. Pass
 * `() => require('pkg') as typeof Pkg` for a package the CLI bundle should carry (cli/make-bundle.ts):
 * esbuild bundles a require inside a function and runs the package's body on that first call.
 */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * A getter that `require`s `id` (a Node builtin such as `node:crypto`, or a package resolved from
 * node_modules at run time, never bundled) on its first call.
 * @throws the require's MODULE_NOT_FOUND error on the first call when `id` is not installed
 */
export function lazyModule<T>(id: string): () => T {
  return lazy(() => load(id) as T);
}
