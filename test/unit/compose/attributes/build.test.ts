// build: string -> {context}; defaults; args resolved from the environment.
import { parse } from 'yaml';

import { canonicalize } from '../../../../compose/canonical';
import type { Service } from '../../../../compose/model';
import { normalizeProject } from '../../../../compose/normalize';
import type { RawMap } from '../../../../compose/raw';

const ENV_FILES: Record<string, string> = { '/proj/web.env': 'A=from_file\nB=from_file\n' };

/** Inline YAML through canonicalize + normalizeProject; returns service `web`. */
function web(yaml: string, env: Record<string, string> = {}): Service {
  const p = normalizeProject(canonicalize(parse(yaml) as RawMap), {
    projectName: 'proj',
    workingDir: '/proj',
    env: new Map(Object.entries(env)),
    readEnvFile: (path) => ENV_FILES[path],
    homeDir: '/home/me',
  });
  const s = p.services.web;
  if (!s) throw new Error('no service web');
  return s;
}

describe('build', () => {
  test('string form', () => {
    expect(web('services: {web: {build: ./app}}').build).toEqual({
      context: '/proj/app',
      dockerfile: 'Dockerfile',
    });
  });
  test('defaults and args', () => {
    const s = web('services: {web: {build: {args: [A=1, FROM_ENV, UNSET], shm_size: 1g}}}', {
      FROM_ENV: 'e',
    });
    expect(s.build).toEqual({
      context: '/proj',
      dockerfile: 'Dockerfile',
      args: { A: '1', FROM_ENV: 'e' },
      shm_size: 1073741824,
    });
  });
  test('URL contexts stay as they are; dockerfile_inline skips the default dockerfile', () => {
    const s = web(
      'services: {web: {build: {context: "https://github.com/a/b.git#main", dockerfile_inline: "FROM x"}}}',
    );
    expect(s.build).toEqual({
      context: 'https://github.com/a/b.git#main',
      dockerfile_inline: 'FROM x',
    });
  });
});
