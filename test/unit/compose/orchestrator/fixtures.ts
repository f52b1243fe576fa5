/** Shared fixtures for orchestrator unit tests: projects and observed snapshots built as data. */
import { serviceConfigHash } from '../../../../compose/hash.js';
import type { Project, Service } from '../../../../compose/model.js';
import type { ObservedContainer, ObservedState } from '../../../../compose/orchestrator/observe.js';
import { emptyState } from '../../../../compose/orchestrator/observe.js';

export function project(services: Record<string, Service>, extra: Partial<Project> = {}): Project {
  return { name: 'demo', services, ...extra };
}

export function lines(...l: string[]): string {
  return l.join('\n');
}

export function container(
  p: Project,
  service: string,
  number: number,
  over: Partial<ObservedContainer> = {},
): ObservedContainer {
  const svc = p.services[service];
  return {
    id: `id-${service}-${number}`,
    name: `${p.name}-${service}-${number}`,
    service,
    number,
    oneoff: false,
    configHash: svc ? serviceConfigHash(svc) : 'gone',
    image: svc?.image ?? 'busybox',
    state: 'running',
    dependsOn: Object.keys(svc?.depends_on ?? {}),
    labels: {},
    ...over,
  };
}

export function state(
  p: Project,
  containers: ObservedContainer[],
  opts: { networks?: string[]; volumes?: string[]; images?: string[] } = {},
): ObservedState {
  return {
    ...emptyState(p.name, opts.images ?? []),
    containers,
    networks: (opts.networks ?? []).map((name) => ({
      id: `net-${name}`,
      name,
      key: '',
      labels: {},
    })),
    volumes: (opts.volumes ?? []).map((name) => ({ name, key: '', labels: {} })),
  };
}
