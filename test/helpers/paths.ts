/** Locations tests read from: the shared corpus and cases (beside the checkout), and docs/. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(__dirname, '../..');
/** ../shared beside the checkout (CI lays a copy of shared/ there). */
export const SHARED =
  [join(ROOT, '../shared'), '/work/shared'].find((p) => existsSync(p)) ?? join(ROOT, '../shared');
/** The loader conformance corpus. */
export const CORPUS = join(SHARED, 'corpus');
/** The reported-problem cases. */
export const CASES = join(SHARED, 'cases');
/** The project's docs/. */
export const DOCS = join(ROOT, 'docs');
