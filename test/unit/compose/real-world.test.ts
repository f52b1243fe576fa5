/**
 * The real-world corpus (../shared/corpus/real-world): 33 projects' own compose files must load
 * and list their services exactly as `docker compose config --services` does (as a set), both with
 * no profile flag and with `--profile '*'`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { loadProject } from '../../../compose/index';
import { CORPUS } from '../../helpers/paths';

const RW = join(CORPUS, 'real-world');

interface Row {
  readonly path: string;
  readonly needs: string;
  readonly services: string[];
  readonly servicesDefault: string[];
}

const split = (s: string | undefined): string[] => (s ? s.split(',').filter((x) => x !== '') : []);

const rows: Row[] = readFileSync(join(RW, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .filter((c) => c[10] === 'compose')
  .map((c) => ({
    path: c[0] ?? '',
    needs: c[5] ?? '',
    services: split(c[6]),
    servicesDefault: split(c[9]),
  }));

/** The `-f` list and extra environment a row's `needs` column asks for. */
function invocation(row: Row): { files: string[]; env: Record<string, string>; cwd: string } {
  const dir = dirname(join(RW, row.path));
  const env: Record<string, string> = {};
  for (const m of row.needs.matchAll(/\b([A-Z_]+)=(\S+?)(?=[\s;)]|$)/g)) {
    if (m[1] && m[2] && !/COMPOSE_/.test(m[1])) env[m[1]] = m[2];
  }
  const f = [...row.needs.matchAll(/-f (\S+)/g)].map((m) => m[1] ?? '');
  if (f.length > 0) {
    // -f paths in `needs` are relative to the project root (the directory network.sh runs in).
    const base = row.needs.includes('compose/compose-test-net.yaml') ? dirname(dirname(dir)) : dir;
    return { files: f.map((x) => join(base, x)), env, cwd: base };
  }
  if (row.needs.includes('project dir')) return { files: [], env, cwd: dir };
  return { files: [join(RW, row.path)], env, cwd: dir };
}

describe('real-world compose files', () => {
  it('has the 33 projects of the corpus', () => {
    expect(rows.length).toBe(33);
  });

  it.each(rows.map((r) => [r.path, r] as const))('%s loads and lists its services', (_p, row) => {
    const { files, env, cwd } = invocation(row);
    const base = { cwd, files, environment: { HOME: '/root', ...env }, homeDir: '/root' };
    const byDefault = loadProject(base).project;
    expect(Object.keys(byDefault.services).sort()).toEqual([...row.servicesDefault].sort());
    // As `config --services` does, listing skips cross-reference checks (profiles may clash).
    const all = loadProject({ ...base, profiles: ['*'], consistency: false }).project;
    expect(Object.keys(all.services).sort()).toEqual([...row.services].sort());
  });
});
