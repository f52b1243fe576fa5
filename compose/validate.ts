/**
 * Semantic checks on the normalised Project (compose-go `checkConsistency` and friends): references
 * to undefined services/networks/volumes/secrets/configs, container_name clashes, conflicting
 * parameters. Returns every issue; never throws, never changes the project.
 */
import type { FileObject, Project, Resource, Service } from './model.js';
import { issueAt, type SchemaIssue } from './schema/index.js';
import { parseBytes } from './units.js';

const INVALID = 'invalid compose project';

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? parseBytes(v) : n;
  }
  return undefined;
}

function replicasOf(s: Service): number {
  return num(s.deploy?.replicas) ?? num(s.scale) ?? 1;
}

function checkService(p: Project, name: string, s: Service, out: SchemaIssue[]): void {
  const at = (...rest: (string | number)[]): (string | number)[] => ['services', name, ...rest];
  if (s.image === undefined && s.build === undefined && s.provider === undefined) {
    out.push(
      issueAt(
        at(),
        `service "${name}" has neither an image nor a build context specified: ${INVALID}`,
      ),
    );
  }
  for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
    if (Object.hasOwn(p.services, dep) || d.required === false) continue;
    out.push({
      path: at('depends_on', dep),
      detail: `service "${name}" depends on undefined service "${dep}": ${INVALID}`,
    });
  }
  if (
    s.network_mode !== undefined &&
    s.networks !== undefined &&
    Object.keys(s.networks).length > 0
  ) {
    out.push({
      path: at('network_mode'),
      detail: `service ${name} declares mutually exclusive \`network_mode\` and \`networks\`: ${INVALID}`,
    });
  }
  for (const net of Object.keys(s.networks ?? {})) {
    if (p.networks && Object.hasOwn(p.networks, net)) continue;
    out.push({
      path: at('networks', net),
      detail: `service "${name}" refers to undefined network ${net}: ${INVALID}`,
    });
  }
  (s.volumes ?? []).forEach((v, i) => {
    if (v.type === 'volume' && v.source !== undefined && v.source !== '') {
      if (!p.volumes || !Object.hasOwn(p.volumes, v.source)) {
        out.push({
          path: at('volumes', i),
          detail: `service "${name}" refers to undefined volume ${v.source}: ${INVALID}`,
        });
      }
    }
    if (v.type === 'bind' && (v.source === undefined || v.source === '')) {
      out.push({
        path: at('volumes', i),
        detail: `invalid mount config for type "bind": field Source must not be empty`,
      });
    }
  });
  for (const kind of ['secrets', 'configs'] as const) {
    const defined: Readonly<Record<string, FileObject>> | undefined = p[kind];
    (s[kind] ?? []).forEach((ref, i) => {
      if (defined && Object.hasOwn(defined, ref.source)) return;
      const what = kind === 'secrets' ? 'secret' : 'config';
      out.push({
        path: at(kind, i),
        detail: `service "${name}" refers to undefined ${what} ${ref.source}: ${INVALID}`,
      });
    });
  }
  if (s.container_name !== undefined && replicasOf(s) > 1) {
    // compose-go's wording, attribute and service name in this order
    const attr = s.scale === undefined ? 'deploy.replicas' : 'scale';
    out.push({
      path: at('container_name'),
      detail: `services.${attr}: can't set container_name and ${name} as container name must be unique: ${INVALID}`,
    });
  }
  const scale = num(s.scale);
  const replicas = num(s.deploy?.replicas);
  if (scale !== undefined && replicas !== undefined && scale !== replicas) {
    out.push({
      path: at('scale'),
      detail: `services.${name}: can't set distinct values on 'scale' and 'deploy.replicas': ${INVALID}`,
    });
  }
  if (scale !== undefined && scale < 0) {
    out.push(issueAt(at('scale'), 'must be greater than or equal to 0'));
  }
  if (replicas !== undefined && replicas < 0) {
    out.push(issueAt(at('deploy', 'replicas'), 'must be greater than or equal to 0'));
  }
  const resources = s.deploy?.resources;
  const pairs: [string, unknown, string, Resource | undefined, keyof Resource][] = [
    ['cpus', s.cpus, 'deploy.resources.limits.cpus', resources?.limits, 'cpus'],
    ['mem_limit', s.mem_limit, 'deploy.resources.limits.memory', resources?.limits, 'memory'],
    [
      'mem_reservation',
      s.mem_reservation,
      'deploy.resources.reservations.memory',
      resources?.reservations,
      'memory',
    ],
    ['pids_limit', s.pids_limit, 'deploy.resources.limits.pids', resources?.limits, 'pids'],
  ];
  // compose-go: a non-zero service value must equal the deploy value whenever the deploy block
  // (limits or reservations) exists, even when that block leaves the value unset
  for (const [a, va, b, block, key] of pairs) {
    const own = num(va);
    if (own === undefined || own === 0 || block === undefined) continue;
    if (own !== (num(block[key]) ?? 0)) {
      out.push({
        path: at(a),
        detail: `services.${name}: can't set distinct values on '${a}' and '${b}': ${INVALID}`,
      });
    }
  }
  const test = s.healthcheck?.test;
  if (
    test !== undefined &&
    test.length > 0 &&
    !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')
  ) {
    out.push({
      path: at('healthcheck', 'test'),
      detail: 'healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"',
    });
  }
  if (s.build?.dockerfile_inline !== undefined && s.build.dockerfile !== undefined) {
    out.push({
      path: at('build'),
      detail: `service "${name}" declares mutualy exclusive dockerfile and dockerfile_inline: ${INVALID}`,
    });
  }
  const netRef = s.network_mode?.startsWith('service:') ? s.network_mode.slice(8) : undefined;
  if (netRef !== undefined && !Object.hasOwn(p.services, netRef)) {
    out.push({
      path: at('network_mode'),
      detail: `service "${netRef}" not found for network_mode 'service:${netRef}'`,
    });
  }
  (s.build?.secrets ?? []).forEach((ref, i) => {
    if (p.secrets && Object.hasOwn(p.secrets, ref.source)) return;
    out.push({
      path: at('build', 'secrets', i),
      detail: `service "${name}" refers to undefined build secret ${ref.source}: ${INVALID}`,
    });
  });
  const models = s.models;
  const modelNames = Array.isArray(models)
    ? models.filter((m): m is string => typeof m === 'string')
    : typeof models === 'object' && models !== null
      ? Object.keys(models)
      : [];
  for (const m of modelNames) {
    if (p.models && Object.hasOwn(p.models, m)) continue;
    out.push({
      path: at('models', m),
      detail: `service "${name}" refers to undefined model ${m}: ${INVALID}`,
    });
  }
  const platforms = s.build?.platforms;
  if (
    s.platform !== undefined &&
    platforms !== undefined &&
    platforms.length > 0 &&
    !platforms.includes(s.platform)
  ) {
    out.push({
      path: at('build', 'platforms'),
      detail: `service.build.platforms MUST include service.platform "${s.platform}"`,
    });
  }
  (s.ports ?? []).forEach((port, i) => {
    const bad = (x: number): boolean => !Number.isInteger(x) || x < 0 || x > 65535;
    if (bad(port.target))
      out.push(issueAt(at('ports', i), `invalid containerPort: ${port.target}`));
    const pub = port.published;
    if (pub !== undefined && pub !== '') {
      const parts = pub.split('-').map(Number);
      if (parts.some(bad) || (parts.length === 2 && (parts[1] ?? 0) < (parts[0] ?? 0))) {
        out.push(issueAt(at('ports', i), `invalid hostPort: ${pub}`));
      }
    }
  });
}

function checkExternal(
  kind: string,
  key: string,
  r: Record<string, unknown>,
  out: SchemaIssue[],
): void {
  if (r.external !== true) return;
  for (const k of ['driver', 'driver_opts', 'labels']) {
    const v = r[k];
    const set =
      v !== undefined &&
      v !== '' &&
      !(typeof v === 'object' && v !== null && Object.keys(v).length === 0);
    if (set)
      out.push({
        path: [kind, key, k],
        detail: `${kind}.${key}: conflicting parameters "external" and "${k}" specified`,
      });
  }
}

/**
 * All semantic problems of a normalised project, in compose-go's wording (`service "bar" depends
 * on undefined service "zot": invalid compose project`, `volumes.v: conflicting parameters
 * "external" and "driver" specified`, `container name "x" is already in use by service "y"`).
 * Dependency cycles are reported by compose/graph.ts.
 * @returns issues sorted by path; [] when the project is consistent
 */
export function validateProject(p: Project): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  const names = new Map<string, string>();
  for (const [name, s] of Object.entries(p.services)) {
    checkService(p, name, s, out);
    if (s.container_name !== undefined) {
      const other = names.get(s.container_name);
      if (other !== undefined) {
        out.push({
          path: ['services', name, 'container_name'],
          detail: `container name "${s.container_name}" is already in use by service "${other}": ${INVALID}`,
        });
      } else names.set(s.container_name, name);
    }
  }
  for (const kind of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    for (const [key, r] of Object.entries(p[kind] ?? {})) {
      checkExternal(kind, key, r as Record<string, unknown>, out);
    }
  }
  return out.sort((a, b) =>
    a.path.join('\u0000') < b.path.join('\u0000')
      ? -1
      : a.path.join('\u0000') > b.path.join('\u0000')
        ? 1
        : 0,
  );
}
