/**
 * The config-only reported-problem cases run as users run them: each case's own check.sh against
 * the built CLI (`node dist/cli/tscompose.js`), from a copy of the case folder. Needs jq (installed
 * when missing) and a built dist/ (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ensureDebPackages } from '../helpers/host';
import { CASES, ROOT } from '../helpers/paths';

const CLI = join(ROOT, 'dist/cli/tscompose.js');
const configOnly = readdirSync(CASES)
  .filter((d) => /^\d{3}-/.test(d))
  .filter((d) => {
    const check = join(CASES, d, 'check.sh');
    return (
      existsSync(check) &&
      readFileSync(check, 'utf8').split('\n').slice(0, 5).includes('# config-only')
    );
  })
  .sort();

describe('cases (config-only) through the built CLI', () => {
  let work: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    ensureDebPackages(['jq']);
    work = mkdtempSync(join(tmpdir(), 'tsc-test-cases-'));
    cpSync(CASES, work, { recursive: true });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('finds the config-only cases', () => {
    expect(configOnly.length).toBeGreaterThanOrEqual(6);
  });

  it.each(configOnly.map((c) => [c]))('%s', (c) => {
    const r = spawnSync('bash', [join(work, c, 'check.sh')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TSC: `node ${CLI}` },
      timeout: 120_000,
    });
    const summary = r.stdout.trim().split('\n').pop() ?? '';
    const failures = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
    expect({ failures, summary }).toEqual({
      failures: [],
      summary: expect.stringMatching(/^\d+ passed, 0 failed$/),
    });
    expect(r.status).toBe(0);
  });
});
