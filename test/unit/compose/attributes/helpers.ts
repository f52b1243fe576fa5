/**
 * Shared by the per-attribute tests: inline YAML through canonicalize + normalizeProject, as the
 * loader runs them, with a fixed project (`proj` in `/proj`) and one env file `/proj/web.env`.
 */
import { parse } from 'yaml';

import { canonicalize } from '../../../../compose/canonical';
import type { Project, Service } from '../../../../compose/model';
import { normalizeProject } from '../../../../compose/normalize';
import type { RawMap } from '../../../../compose/raw';

const ENV_FILES: Record<string, string> = { '/proj/web.env': 'A=from_file\nB=from_file\n' };

/** The normalised project of `yaml`, with `env` as the project environment. */
export function project(yaml: string, env: Record<string, string> = {}): Project {
  return normalizeProject(canonicalize(parse(yaml) as RawMap), {
    projectName: 'proj',
    workingDir: '/proj',
    env: new Map(Object.entries(env)),
    readEnvFile: (path) => ENV_FILES[path],
    homeDir: '/home/me',
  });
}

/** Service `web` of {@link project}; throws when the YAML has none. */
export function web(yaml: string, env: Record<string, string> = {}): Service {
  const s = project(yaml, env).services.web;
  if (!s) throw new Error('no service web');
  return s;
}
