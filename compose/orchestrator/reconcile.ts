/**
 * Reconcile (PURE): (Project, ObservedState, options) -> Plan, for `up` and for `down`
 * (docker compose reconcile.go / convergence.go). Decides everything; makes no API call and reads
 * no clock, so the same inputs always give the same plan text.
 */
import type { NetworkCreateOptions, VolumeCreateOptions } from 'dockerode';

import { ComposeError } from '../../base/errors.js';
import { serviceConfigHash } from '../hash.js';
import type { Project, Service } from '../model.js';
import { parseDuration } from '../units.js';

import {
  NETWORK_LABEL,
  PROJECT_LABEL,
  TOOL_VERSION,
  VERSION_LABEL,
  VOLUME_LABEL,
} from './labels.js';
import type { ObservedContainer, ObservedState } from './observe.js';
import {
  type ContainerRef,
  type DependencyCondition,
  type Op,
  type Plan,
  PlanBuilder,
} from './plan.js';
import {
  type TranslateContext,
  containerName,
  networkName,
  normalizeImageRef,
  serviceImage,
  sortedNetworks,
  translateService,
  volumeName,
} from './translate.js';

/** `up` options (docker compose `api.CreateOptions` + `api.StartOptions`). */
export interface UpOptions {
  /** `--force-recreate`: recreate every selected container. */
  readonly forceRecreate?: boolean | undefined;
  /** `--no-recreate`: never recreate existing containers. */
  readonly noRecreate?: boolean | undefined;
  /** `--remove-orphans`: stop and remove containers of services no longer in the project. */
  readonly removeOrphans?: boolean | undefined;
  /** `--scale svc=n` overrides. */
  readonly scale?: Readonly<Record<string, number>> | undefined;
  /** `--no-deps`: do not add the dependencies of `services`. */
  readonly noDeps?: boolean | undefined;
  /** Services named on the command line (empty/undefined = all). */
  readonly services?: readonly string[] | undefined;
  /**
   * `--wait`: end with a wait-service node per service: exited 0 for services others depend on
   * with service_completed_successfully, healthy when a healthcheck is declared, else running
   * (or healthy when the image has a healthcheck: see waitCondition).
   */
  readonly wait?: boolean | undefined;
  /** `--no-start`: create only. */
  readonly noStart?: boolean | undefined;
  /** `--pull`: overrides every service's pull_policy (`always`, `missing`, `never`). */
  readonly pull?: string | undefined;
  /** `-t`: stop timeout in seconds for recreations and removals. */
  readonly timeoutS?: number | undefined;
  /** Labels and container references (TranslateContext minus the project). */
  readonly translate?: Omit<TranslateContext, 'project'> | undefined;
}

/** `down` options (docker compose `api.DownOptions`). */
export interface DownOptions {
  /** `-v`: remove the project's named volumes (and anonymous volumes of its containers). */
  readonly volumes?: boolean | undefined;
  /** `--rmi all|local`: remove images (local = only those without a custom `image:` tag). */
  readonly rmi?: 'all' | 'local' | undefined;
  /** `--remove-orphans`: also remove containers of services not in the project. */
  readonly removeOrphans?: boolean | undefined;
  /** `-t` seconds. */
  readonly timeoutS?: number | undefined;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The services a service needs created first: depends_on, network_mode/ipc/pid service:, volumes_from. */
export function serviceDependencies(service: Service): string[] {
  const deps = new Set(Object.keys(service.depends_on ?? {}));
  for (const mode of [service.network_mode, service.ipc, service.pid]) {
    if (typeof mode === 'string' && mode.startsWith('service:')) deps.add(mode.slice(8));
  }
  for (const v of service.volumes_from ?? []) {
    if (!v.startsWith('container:')) deps.add(v.split(':')[0] ?? '');
  }
  deps.delete('');
  return [...deps].sort(byString);
}

/** Services whose container this one joins: `service:` network_mode/ipc/pid, volumes_from. */
function sharedWith(service: Service): string[] {
  const out: string[] = [];
  for (const mode of [service.network_mode, service.ipc, service.pid]) {
    if (typeof mode === 'string' && mode.startsWith('service:')) out.push(mode.slice(8));
  }
  for (const v of service.volumes_from ?? []) {
    if (!v.startsWith('container:')) out.push(v.split(':')[0] ?? '');
  }
  return out.filter((s) => s !== '').sort(byString);
}

/**
 * Services of `names` in dependency order (dependencies first, ties by name). Unknown or
 * unlisted dependencies are skipped; a cycle (rejected by the loader) is broken at the first repeated service.
 */
export function dependencyOrder(
  services: Readonly<Record<string, Service>>,
  names: Iterable<string>,
): string[] {
  const out: string[] = [];
  const wanted = new Set(names);
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: string): void => {
    if (state.has(s) || services[s] === undefined || !wanted.has(s)) return;
    state.set(s, 'visiting');
    for (const d of serviceDependencies(services[s])) visit(d);
    state.set(s, 'done');
    out.push(s);
  };
  for (const s of [...wanted].sort(byString)) visit(s);
  return out;
}

/** Desired replica count: `--scale`, then `scale`, then `deploy.replicas`, else 1. */
export function desiredReplicas(
  name: string,
  service: Service,
  scale?: Readonly<Record<string, number>>,
): number {
  return scale?.[name] ?? service.scale ?? service.deploy?.replicas ?? 1;
}

/** Selected services: the named ones plus (unless noDeps) their dependencies, transitively. */
/**
 * The services an `up` acts on: `o.services` and (unless `noDeps`) what they depend on, or every
 * service when none is named.
 */
export function selectServices(
  project: Project,
  o: Pick<UpOptions, 'services' | 'noDeps'>,
): Set<string> {
  const all = Object.keys(project.services);
  if (o.services === undefined || o.services.length === 0) return new Set(all);
  const out = new Set<string>();
  const add = (s: string): void => {
    if (out.has(s) || project.services[s] === undefined) return;
    out.add(s);
    if (o.noDeps !== true) for (const d of serviceDependencies(project.services[s])) add(d);
  };
  for (const s of o.services) add(s);
  return out;
}

function ref(c: ObservedContainer): ContainerRef {
  return { service: c.service, replica: c.number, name: c.name, id: c.id };
}

/** Whole seconds from stop_grace_period (Go duration), or undefined (engine default). */
function graceSeconds(service: Service | undefined): number | undefined {
  const g = service?.stop_grace_period;
  const ns = g === undefined ? undefined : parseDuration(g);
  return ns === undefined ? undefined : Math.floor(ns / 1e9);
}

/** The `POST /networks/create` body for a project network key. */
export function networkCreateBody(project: Project, key: string): NetworkCreateOptions {
  const n = project.networks?.[key] ?? {};
  const ipam = n.ipam;
  const body: NetworkCreateOptions = {
    Name: networkName(project, key),
    CheckDuplicate: true,
    Driver: n.driver ?? 'bridge',
    Internal: n.internal === true,
    Attachable: n.attachable === true,
    EnableIPv6: n.enable_ipv6 === true,
    Labels: {
      ...(n.labels ?? {}),
      [PROJECT_LABEL]: project.name,
      [NETWORK_LABEL]: key,
      [VERSION_LABEL]: TOOL_VERSION,
    },
  };
  if (n.driver_opts) body.Options = { ...n.driver_opts };
  if (ipam) {
    body.IPAM = {
      Driver: ipam.driver ?? 'default',
      Config: (ipam.config ?? []).map((c) => {
        const o: Record<string, unknown> = {};
        if (c.subnet !== undefined) o.Subnet = c.subnet;
        if (c.ip_range !== undefined) o.IPRange = c.ip_range;
        if (c.gateway !== undefined) o.Gateway = c.gateway;
        if (c.aux_addresses !== undefined) o.AuxiliaryAddresses = { ...c.aux_addresses };
        return o;
      }),
      Options: { ...(ipam.options ?? {}) },
    };
  }
  return body;
}

/** The `POST /volumes/create` body for a project volume key. */
export function volumeCreateBody(project: Project, key: string): VolumeCreateOptions {
  const v = project.volumes?.[key] ?? {};
  return {
    Name: volumeName(project, key),
    Driver: v.driver ?? 'local',
    DriverOpts: { ...(v.driver_opts ?? {}) },
    Labels: {
      ...(v.labels ?? {}),
      [PROJECT_LABEL]: project.name,
      [VOLUME_LABEL]: key,
      [VERSION_LABEL]: TOOL_VERSION,
    },
  };
}

/**
 * The `up` plan. Order of node ids: image pulls, networks, volumes, orphan and scale-down removals,
 * then per service in dependency order its (re)creations, then starts with `wait-service` nodes for
 * `service_healthy` / `service_completed_successfully` dependencies.
 * Containers are keyed by (service, replica); extra replicas go highest numbers first.
 * Images are pulled per pull_policy (`--pull` overrides): `always`, `missing`/`if_not_present`
 * when absent from the snapshot; never for `never` and `build` (the default for build services).
 * @throws ComposeError TSC_COMPOSE_INVALID when a service with container_name is scaled above 1,
 *   or a duration is invalid (from translate)
 */
export function reconcileUp(project: Project, observed: ObservedState, o: UpOptions = {}): Plan {
  const b = new PlanBuilder();
  const selected = selectServices(project, o);
  const order = dependencyOrder(project.services, selected);
  const ctx: TranslateContext = { ...(o.translate ?? {}), project };
  const images = new Set(observed.images);
  const live = observed.containers.filter((c) => !c.oneoff);

  // 1. images
  const pullNode = new Map<string, number>();
  for (const s of order) {
    const svc = project.services[s];
    if (svc?.image === undefined) continue;
    const ref = normalizeImageRef(svc.image);
    if (pullNode.has(ref)) continue;
    const policy = o.pull ?? svc.pull_policy ?? (svc.build !== undefined ? 'build' : 'missing');
    const present = images.has(ref) || images.has(svc.image);
    if (
      policy === 'always' ||
      ((policy === 'missing' || policy === 'if_not_present') && !present)
    ) {
      pullNode.set(
        ref,
        b.add(
          { kind: 'pull-image', ref, platform: svc.platform },
          policy === 'always' ? 'always' : 'missing',
        ),
      );
    }
  }

  // 2. networks and volumes used or declared
  const netKeys = new Set<string>();
  const volKeys = new Set<string>();
  for (const [k, n] of Object.entries(project.networks ?? {}))
    if (n.external !== true) netKeys.add(k);
  for (const [k, v] of Object.entries(project.volumes ?? {}))
    if (v.external !== true) volKeys.add(k);
  for (const s of order) {
    const svc = project.services[s];
    if (svc === undefined) continue;
    if (svc.network_mode === undefined) {
      for (const [k] of sortedNetworks(svc))
        if (project.networks?.[k]?.external !== true) netKeys.add(k);
    }
  }
  // after every pull, as docker compose: an image that cannot be pulled leaves nothing created
  const pulls = [...pullNode.values()];
  const netNode = new Map<string, number>();
  for (const k of [...netKeys].sort(byString)) {
    const name = networkName(project, k);
    if (observed.networks.some((n) => n.name === name)) continue;
    netNode.set(
      k,
      b.add(
        { kind: 'create-network', name, body: networkCreateBody(project, k) },
        'missing',
        pulls,
      ),
    );
  }
  const volNode = new Map<string, number>();
  for (const k of [...volKeys].sort(byString)) {
    const name = volumeName(project, k);
    if (observed.volumes.some((v) => v.name === name)) continue;
    volNode.set(
      k,
      b.add({ kind: 'create-volume', name, body: volumeCreateBody(project, k) }, 'missing', pulls),
    );
  }

  // 3. orphans
  const orphans = live.filter((c) => project.services[c.service] === undefined);
  if (o.removeOrphans === true) {
    for (const c of orphans) removeContainer(b, c, 'orphan', o.timeoutS, undefined, false);
  }

  // 4. containers per service, in dependency order
  const createNodes = new Map<string, number[]>(); // service -> create ids
  const toStart = new Map<string, { ref: ContainerRef; after: number[]; cause: string }[]>();
  const recreated = new Set<string>();
  const finalNames = new Map<string, string[]>(); // service -> its container names after the plan
  for (const s of order) {
    const svc = project.services[s];
    if (svc === undefined) continue;
    const want = desiredReplicas(s, svc, o.scale);
    if (want > 1 && svc.container_name !== undefined) {
      throw ComposeError.at(
        'TSC_COMPOSE_INVALID',
        {
          file: o.translate?.configFiles?.[0] ?? 'compose.yaml',
          path: `services.${s}.container_name`,
        },
        `service "${s}" uses the custom container name "${svc.container_name}"; remove it to scale the service to ${want}`,
      );
    }
    const existing = live.filter((c) => c.service === s).sort((x, y) => x.number - y.number);
    const kept = existing.slice(0, want);
    const extra = existing.slice(want).reverse();
    for (const c of extra)
      removeContainer(b, c, 'scale down', o.timeoutS ?? graceSeconds(svc), undefined, false);

    const hash = serviceConfigHash(svc);
    const deps = serviceDependencies(svc).filter((d) => selected.has(d));
    const depCreates = deps.flatMap((d) => createNodes.get(d) ?? []);
    const baseAfter = [
      ...pulls,
      ...(svc.network_mode === undefined ? sortedNetworks(svc).map(([k]) => netNode.get(k)) : []),
      ...(svc.volumes ?? []).map((v) =>
        v.type === 'volume' && v.source ? volNode.get(v.source) : undefined,
      ),
      ...depCreates,
    ];
    const restartDep = Object.entries(svc.depends_on ?? {}).find(
      ([d, x]) => x.restart === true && recreated.has(d),
    );
    // a container joined to another's namespaces or volumes must follow it when it is replaced
    const joined = sharedWith(svc).find((d) => recreated.has(d));
    const starts: { ref: ContainerRef; after: number[]; cause: string }[] = [];
    const creates: number[] = [];
    const used = new Set<number>();
    for (const c of kept) {
      used.add(c.number);
      let cause: string | undefined;
      if (o.forceRecreate === true) cause = 'force recreate';
      else if (o.noRecreate !== true && c.configHash !== hash) cause = 'config changed';
      else if (o.noRecreate !== true && joined !== undefined)
        cause = `dependency ${joined} recreated`;
      if (cause !== undefined) {
        const removed = removeContainer(
          b,
          c,
          cause,
          o.timeoutS ?? graceSeconds(svc),
          baseAfter,
          false,
        );
        const id = create(b, ctx, s, c.number, cause, [...baseAfter, removed]);
        creates.push(id);
        recreated.add(s);
        starts.push({ ref: refOf(project, s, svc, c.number), after: [id], cause: 'recreated' });
      } else if (restartDep !== undefined && c.state === 'running') {
        const stopped = b.add(
          { kind: 'stop-container', container: ref(c), timeoutS: o.timeoutS ?? graceSeconds(svc) },
          `dependency ${restartDep[0]} recreated`,
          depCreates,
        );
        starts.push({
          ref: ref(c),
          after: [stopped],
          cause: `dependency ${restartDep[0]} recreated`,
        });
      } else if (c.state !== 'running' && c.state !== 'restarting') {
        starts.push({ ref: ref(c), after: [], cause: c.state === 'paused' ? 'paused' : 'stopped' });
      }
    }
    for (let n = 1; used.size < want; n++) {
      if (used.has(n)) continue;
      used.add(n);
      const id = create(b, ctx, s, n, 'missing', baseAfter);
      creates.push(id);
      starts.push({ ref: refOf(project, s, svc, n), after: [id], cause: 'created' });
    }
    createNodes.set(s, creates);
    toStart.set(s, starts);
    finalNames.set(
      s,
      [...used].sort((x, y) => x - y).map((n) => containerName(project.name, s, svc, n)),
    );
  }

  // 5. starts, in dependency order, gated by wait nodes
  if (o.noStart !== true) {
    const startNodes = new Map<string, number[]>();
    const waitNodes = new Map<string, number>();
    for (const s of order) {
      const svc = project.services[s];
      const starts = toStart.get(s) ?? [];
      if (svc === undefined || starts.length === 0) {
        startNodes.set(s, []);
        continue;
      }
      // joined namespaces/volumes need the other container running (implicit service_started)
      const gates: number[] = sharedWith(svc)
        .filter((d) => selected.has(d))
        .flatMap((d) => startNodes.get(d) ?? []);
      for (const [d, dep] of Object.entries(svc.depends_on ?? {}).sort(([x], [y]) =>
        byString(x, y),
      )) {
        if (!selected.has(d) || project.services[d] === undefined) continue;
        const depStarts = startNodes.get(d) ?? [];
        if (dep.condition === 'service_started') {
          gates.push(...depStarts);
          continue;
        }
        const key = `${d}\0${dep.condition}`;
        let w = waitNodes.get(key);
        if (w === undefined) {
          const containers = finalNames.get(d) ?? [];
          w = b.add(
            {
              kind: 'wait-service',
              service: d,
              condition: dep.condition,
              containers,
              required: dep.required,
            },
            `required by ${s}`,
            depStarts,
          );
          waitNodes.set(key, w);
        }
        gates.push(w);
      }
      const ids = starts.map((st) =>
        b.add({ kind: 'start-container', container: st.ref }, st.cause, [...st.after, ...gates]),
      );
      startNodes.set(s, ids);
    }
    if (o.wait === true) {
      const completedDeps = new Set<string>();
      for (const s of order) {
        for (const [d, dep] of Object.entries(project.services[s]?.depends_on ?? {})) {
          if (dep.condition === 'service_completed_successfully') completedDeps.add(d);
        }
      }
      for (const s of order) {
        const svc = project.services[s];
        const containers = finalNames.get(s) ?? [];
        if (svc === undefined || containers.length === 0) continue;
        const hc = svc.healthcheck;
        const healthy = hc !== undefined && hc.disable !== true && hc.test?.[0] !== 'NONE';
        const condition: DependencyCondition = completedDeps.has(s)
          ? 'service_completed_successfully'
          : healthy
            ? 'service_healthy'
            : 'service_started';
        if (waitNodes.has(`${s}\0${condition}`)) continue;
        b.add(
          { kind: 'wait-service', service: s, condition, containers, required: true },
          'wait',
          startNodes.get(s) ?? [],
        );
      }
    }
  }
  return { nodes: b.nodes, orphans: o.removeOrphans === true ? [] : orphans.map((c) => c.name) };
}

function refOf(project: Project, s: string, svc: Service, n: number): ContainerRef {
  return { service: s, replica: n, name: containerName(project.name, s, svc, n) };
}

function create(
  b: PlanBuilder,
  ctx: TranslateContext,
  s: string,
  n: number,
  cause: string,
  after: (number | undefined)[],
): number {
  const spec = translateService(ctx, s, n);
  const op: Op = {
    kind: 'create-container',
    container: { service: s, replica: n, name: spec.name },
    spec,
  };
  return b.add(op, cause, after);
}

/** stop (when not stopped) then remove; returns the remove node id. */
function removeContainer(
  b: PlanBuilder,
  c: ObservedContainer,
  cause: string,
  timeoutS: number | undefined,
  after: readonly (number | undefined)[] | undefined,
  volumes: boolean,
): number {
  let prev: number[] = (after ?? []).filter((x): x is number => x !== undefined);
  if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') {
    prev = [b.add({ kind: 'stop-container', container: ref(c), timeoutS }, cause, prev)];
  }
  return b.add({ kind: 'remove-container', container: ref(c), volumes }, cause, prev);
}

/**
 * Visits containers dependents first: `step(c, after)` adds the nodes for one container, `after`
 * being the ids returned for every container of the services that depend on its service
 * (dependencies from the project when given, else from the `depends_on` labels).
 * @returns every id `step` returned, per service
 */
function reverseDependencyWalk(
  targets: readonly ObservedContainer[],
  project: Project | undefined,
  step: (c: ObservedContainer, after: readonly number[]) => number | undefined,
): Map<string, number[]> {
  const deps = new Map<string, Set<string>>();
  for (const c of targets) {
    const set = deps.get(c.service) ?? new Set<string>();
    const fromProject = project?.services[c.service];
    for (const d of fromProject ? serviceDependencies(fromProject) : c.dependsOn) set.add(d);
    deps.set(c.service, set);
  }
  const services = [...deps.keys()].sort(byString);
  const ids = new Map<string, number[]>();
  const visit = (s: string, stack: Set<string>): void => {
    if (ids.has(s) || stack.has(s)) return;
    stack.add(s);
    const dependents = services.filter((x) => deps.get(x)?.has(s) === true);
    for (const x of dependents) visit(x, stack);
    const after = dependents.flatMap((x) => ids.get(x) ?? []);
    const mine: number[] = [];
    for (const c of targets.filter((x) => x.service === s)) {
      const id = step(c, after);
      if (id !== undefined) mine.push(id);
    }
    ids.set(s, mine.length > 0 ? mine : after);
  };
  for (const s of services) visit(s, new Set());
  return ids;
}

/** `stop` options (docker compose `api.StopOptions`). */
export interface StopOptions {
  /** Services to stop (empty/undefined = all); their dependents are stopped too, first. */
  readonly services?: readonly string[] | undefined;
  /** `-t` seconds. */
  readonly timeoutS?: number | undefined;
}

/**
 * The `stop` plan: running containers stopped dependents first; independent services in parallel.
 * With `services`, also every service that (transitively) depends on them, like docker compose.
 */
export function reconcileStop(
  observed: ObservedState,
  o: StopOptions = {},
  project?: Project,
): Plan {
  const b = new PlanBuilder();
  const live = observed.containers.filter((c) => !c.oneoff);
  let chosen: Set<string> | undefined;
  if (o.services !== undefined && o.services.length > 0) {
    chosen = new Set(o.services);
    for (let grew = true; grew;) {
      grew = false;
      for (const c of live) {
        if (chosen.has(c.service)) continue;
        const svc = project?.services[c.service];
        const deps = svc ? serviceDependencies(svc) : c.dependsOn;
        if (deps.some((d) => chosen?.has(d) === true)) {
          chosen.add(c.service);
          grew = true;
        }
      }
    }
  }
  const targets = live.filter((c) => chosen === undefined || chosen.has(c.service));
  reverseDependencyWalk(targets, project, (c, after) => {
    if (c.state !== 'running' && c.state !== 'paused' && c.state !== 'restarting') return undefined;
    const timeoutS = o.timeoutS ?? graceSeconds(project?.services[c.service]);
    return b.add({ kind: 'stop-container', container: ref(c), timeoutS }, 'stop', after);
  });
  return { nodes: b.nodes, orphans: [] };
}

/**
 * The `down` plan: containers stopped and removed dependents first (reverse dependency order, from
 * the project when given, else from the `depends_on` labels), then networks, then volumes (`-v`),
 * then images (`--rmi`). Without a project every labelled container is removed.
 */
export function reconcileDown(
  observed: ObservedState,
  o: DownOptions = {},
  project?: Project,
): Plan {
  const b = new PlanBuilder();
  const live = observed.containers;
  const known = (c: ObservedContainer): boolean =>
    project === undefined || project.services[c.service] !== undefined;
  const orphans = live.filter((c) => !known(c) && !c.oneoff);
  const targets = live.filter((c) => known(c) || o.removeOrphans === true);
  const removeIds = reverseDependencyWalk(targets, project, (c, after) => {
    const timeout = o.timeoutS ?? graceSeconds(project?.services[c.service]);
    return removeContainer(b, c, known(c) ? 'down' : 'orphan', timeout, after, o.volumes === true);
  });
  const allRemoved = [...removeIds.values()].flat();
  for (const n of observed.networks)
    b.add({ kind: 'remove-network', name: n.name }, 'down', allRemoved);
  if (o.volumes === true) {
    for (const v of observed.volumes)
      b.add({ kind: 'remove-volume', name: v.name }, 'down -v', allRemoved);
  }
  if (o.rmi !== undefined) {
    const refs = new Set<string>();
    if (project) {
      for (const [s, svc] of Object.entries(project.services)) {
        if (o.rmi === 'local' && svc.image !== undefined) continue;
        refs.add(serviceImage(project.name, s, svc));
      }
    } else if (o.rmi === 'all') {
      for (const c of targets) refs.add(c.image);
    }
    for (const r of [...refs].sort(byString))
      b.add({ kind: 'remove-image', ref: r }, `rmi ${o.rmi}`, allRemoved);
  }
  return { nodes: b.nodes, orphans: o.removeOrphans === true ? [] : orphans.map((c) => c.name) };
}
