// environment / env_file / labels: lists -> maps, env_file under environment, bare keys resolved.
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

describe('environment', () => {
  test('list, map and env_file precedence', () => {
    const s = web(
      `
services:
  web:
    image: x
    env_file: web.env
    environment:
      - B=explicit
      - EMPTY=
      - FROM_SHELL
      - UNSET
`,
      { FROM_SHELL: 'shell' },
    );
    expect(s.environment).toEqual({
      A: 'from_file',
      B: 'explicit',
      EMPTY: '',
      FROM_SHELL: 'shell',
      UNSET: null,
    });
  });
  test('map values are strings; booleans and numbers keep their text', () => {
    const s = web('services: {web: {image: x, environment: {N: 1, T: true, F: 1.5, Z: null}}}');
    expect(s.environment).toEqual({ N: '1', T: 'true', F: '1.5', Z: null });
  });
  test('env_file long syntax, optional missing file', () => {
    const s = web('services: {web: {image: x, env_file: [{path: missing.env, required: false}]}}');
    expect(s.env_file).toEqual([{ path: '/proj/missing.env', required: false }]);
    expect(s.environment).toEqual({});
  });
  test('labels list -> map with empty values', () => {
    const s = web('services: {web: {image: x, labels: [a=1, b]}}');
    expect(s.labels).toEqual({ a: '1', b: '' });
  });
  test('a key with a trailing space is rejected', () => {
    expect(() => web('services: {web: {image: x, environment: ["DEBUG = true"]}}')).toThrow(
      'environment variable DEBUG  is declared with a trailing space',
    );
  });
});
