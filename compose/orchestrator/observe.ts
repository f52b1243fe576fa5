/**
 * Observe: one snapshot of a project's labelled containers (stopped ones too), networks and volumes,
 * plus the local image tags, taken *before* any decision (docker compose observed_state.go).
 * Only list calls; the result is plain, sorted data (independent of the daemon's list order).
 */
import type { ContainerInfo, ImageInfo, NetworkInspectInfo, VolumeInspectInfo } from 'dockerode';

import {
  CONFIG_HASH_LABEL,
  CONTAINER_NUMBER_LABEL,
  DEPENDENCIES_LABEL,
  NETWORK_LABEL,
  ONEOFF_LABEL,
  SERVICE_LABEL,
  VOLUME_LABEL,
  projectFilter,
} from './labels.js';
import { normalizeImageRef } from './translate.js';

/** A labelled container as observed. */
export interface ObservedContainer {
  readonly id: string;
  /** Name without the leading `/`. */
  readonly name: string;
  /** Service key from its label ('' when missing). */
  readonly service: string;
  /** Replica number from `container-number` (0 when missing or invalid). */
  readonly number: number;
  /** True for `run` containers (`oneoff=True`). */
  readonly oneoff: boolean;
  /** `config-hash` label ('' when missing). */
  readonly configHash: string;
  /** The image as the daemon lists it. */
  readonly image: string;
  /** API `State`: created, running, paused, restarting, exited, removing, dead. */
  readonly state: string;
  /** Services it depends on, from the `depends_on` label. */
  readonly dependsOn: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** A labelled network as observed. */
export interface ObservedNetwork {
  readonly id: string;
  readonly name: string;
  /** The compose key (`network` label), '' when missing. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A labelled volume as observed. */
export interface ObservedVolume {
  readonly name: string;
  /** The compose key (`volume` label), '' when missing. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One snapshot of a project on the daemon. Lists are sorted (containers by service, number, name). */
export interface ObservedState {
  readonly project: string;
  readonly containers: readonly ObservedContainer[];
  readonly networks: readonly ObservedNetwork[];
  readonly volumes: readonly ObservedVolume[];
  /** Normalised local image references (`docker.io/library/nginx:latest`) and image ids. */
  readonly images: readonly string[];
}

/** The list calls observe makes; a dockerode `Docker` instance satisfies it. */
export interface ObserveClient {
  listContainers(options: {
    all: boolean;
    filters: { label: string[] };
  }): Promise<Pick<ContainerInfo, 'Id' | 'Names' | 'Image' | 'Labels' | 'State'>[]>;
  listNetworks(options: {
    filters: { label: string[] };
  }): Promise<Pick<NetworkInspectInfo, 'Id' | 'Name' | 'Labels'>[]>;
  listVolumes(options: {
    filters: { label: string[] };
  }): Promise<{ Volumes: Pick<VolumeInspectInfo, 'Name' | 'Labels'>[] | null }>;
  listImages(): Promise<Pick<ImageInfo, 'Id' | 'RepoTags'>[]>;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** An empty snapshot of `project` (nothing exists yet). */
export function emptyState(project: string, images: readonly string[] = []): ObservedState {
  return { project, containers: [], networks: [], volumes: [], images: [...images].sort(byString) };
}

/** Parses the `depends_on` label (`db:service_healthy:false,cache:...`) into service names. */
export function parseDependsOnLabel(v: string | undefined): string[] {
  if (v === undefined || v === '') return [];
  return v
    .split(',')
    .map((e) => e.split(':')[0] ?? '')
    .filter((s) => s !== '');
}

/** Builds an ObservedContainer from an API list entry. */
export function toObservedContainer(
  c: Pick<ContainerInfo, 'Id' | 'Names' | 'Image' | 'Labels' | 'State'>,
): ObservedContainer {
  const labels = c.Labels ?? {};
  const n = Number(labels[CONTAINER_NUMBER_LABEL]);
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    service: labels[SERVICE_LABEL] ?? '',
    number: Number.isInteger(n) && n > 0 ? n : 0,
    oneoff: labels[ONEOFF_LABEL] === 'True',
    configHash: labels[CONFIG_HASH_LABEL] ?? '',
    image: c.Image,
    state: c.State,
    dependsOn: parseDependsOnLabel(labels[DEPENDENCIES_LABEL]),
    labels,
  };
}

/**
 * Takes one snapshot of the project `project` through the Docker Engine API (list containers with
 * `all`, networks and volumes filtered by `label=com.docker.compose.project=<project>`, and images
 * unless `o.images` is false: plans that pull nothing (down, stop) leave `images` empty).
 * @throws whatever the client throws (the caller wraps it with the daemon address)
 */
export async function observe(
  client: ObserveClient,
  project: string,
  o: { readonly images?: boolean } = {},
): Promise<ObservedState> {
  const filters = projectFilter(project);
  const [containers, networks, volumes, images] = await Promise.all([
    client.listContainers({ all: true, filters }),
    client.listNetworks({ filters }),
    client.listVolumes({ filters }),
    o.images === false ? [] : client.listImages(),
  ]);
  const imageRefs = new Set<string>();
  for (const i of images) {
    imageRefs.add(i.Id);
    for (const t of i.RepoTags ?? [])
      if (t !== '<none>:<none>') imageRefs.add(normalizeImageRef(t));
  }
  return {
    project,
    containers: containers
      .map(toObservedContainer)
      .sort(
        (a, b) => byString(a.service, b.service) || a.number - b.number || byString(a.name, b.name),
      ),
    networks: networks
      .map((n) => ({
        id: n.Id,
        name: n.Name,
        key: n.Labels?.[NETWORK_LABEL] ?? '',
        labels: n.Labels ?? {},
      }))
      .sort((a, b) => byString(a.name, b.name) || byString(a.id, b.id)),
    volumes: (volumes.Volumes ?? [])
      .map((v) => ({ name: v.Name, key: v.Labels?.[VOLUME_LABEL] ?? '', labels: v.Labels ?? {} }))
      .sort((a, b) => byString(a.name, b.name)),
    images: [...imageRefs].sort(byString),
  };
}
