// environment / env_file / labels: lists -> maps, env_file under environment, bare keys resolved.
import { web } from './helpers';

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
