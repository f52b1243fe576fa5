// healthcheck: test string -> CMD-SHELL; Go durations.
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

describe('healthcheck', () => {
  test('string test and durations (compose-go TestHealthcheck)', () => {
    const s = web(`
services:
  web:
    image: x
    healthcheck:
      test: echo "hello world"
      interval: 10s
      timeout: 1s
      retries: 5
      start_period: 15s
      start_interval: 5s
`);
    expect(s.healthcheck).toEqual({
      test: ['CMD-SHELL', 'echo "hello world"'],
      interval: '10s',
      timeout: '1s',
      retries: 5,
      start_period: '15s',
      start_interval: '5s',
    });
  });
  test('durations are re-rendered in Go form', () => {
    const s = web(
      'services: {web: {image: x, healthcheck: {test: [CMD, true], interval: 90s, timeout: 1h}, stop_grace_period: 1m}}',
    );
    expect(s.healthcheck?.interval).toBe('1m30s');
    expect(s.healthcheck?.timeout).toBe('1h0m0s');
    expect(s.stop_grace_period).toBe('1m0s');
  });
  test('invalid duration', () => {
    expect(() => web('services: {web: {image: x, healthcheck: {interval: soon}}}')).toThrow(
      "invalid duration: 'soon'",
    );
  });
});
