/**
 * The engine services the API routes call, named after the Docker Engine API operations
 * (`ContainerCreate`, `ImageList`, ...; API reference operation ids) with the API's JSON types
 * (from @types/dockerode where it has them). Declarations only: the containers, images and
 * networks modules implement them; routes without an implementation answer 501.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

import type Dockerode from 'dockerode';

/** Parsed `filters` query parameter (`map[string][]string`). */
export type ApiFilters = Readonly<Record<string, readonly string[]>>;

/** What every operation gets besides its arguments. */
export interface OperationContext {
  /** API version of the request (shapes differ by version here and there). */
  readonly apiVersion: string;
  /** Aborted when the client disconnects. */
  readonly signal: AbortSignal;
}

/** `POST /containers/create` body: Config plus HostConfig and NetworkingConfig. */
export type ContainerCreateBody = Omit<
  Dockerode.ContainerCreateOptions,
  'name' | 'platform' | 'abortSignal'
>;

/** Stream options of `GET /containers/{id}/logs`. */
export interface ContainerLogsQuery {
  readonly follow: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** Unix seconds (fractional), 0 = from the start. */
  readonly since: number;
  /** Unix seconds (fractional), 0 = no end. */
  readonly until: number;
  readonly timestamps: boolean;
  /** Lines from the end, or 'all'. */
  readonly tail: number | 'all';
}

/** Docker's `ContainerPathStat` (header `X-Docker-Container-Path-Stat`, base64 of this JSON). */
export interface ContainerPathStat {
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  /** Go `os.FileMode` bits (type bits high, permission bits low). */
  readonly mode: number;
  /** RFC 3339 with nanoseconds (Go's `time.RFC3339Nano`). */
  readonly mtime: string;
  /** For a symlink, its target resolved inside the container; else `''`. */
  readonly linkTarget: string;
}

/** Attach/exec stream plumbing: the hijacked connection and whether frames are multiplexed. */
export interface AttachStreams {
  readonly conn: Duplex;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** True without a TTY: output in the 8-byte-header framing (stream.ts). */
  readonly multiplexed: boolean;
}

/** Containers and exec (API "Container" and "Exec" sections). */
export interface ContainerService {
  ContainerList(
    q: { all: boolean; limit?: number; size: boolean; filters: ApiFilters },
    ctx: OperationContext,
  ): Promise<Dockerode.ContainerInfo[]>;
  ContainerCreate(
    name: string | undefined,
    platform: string | undefined,
    body: ContainerCreateBody,
    ctx: OperationContext,
  ): Promise<{ Id: string; Warnings: string[] }>;
  ContainerInspect(
    id: string,
    size: boolean,
    ctx: OperationContext,
  ): Promise<Dockerode.ContainerInspectInfo>;
  ContainerStart(id: string, ctx: OperationContext): Promise<'started' | 'already-started'>;
  ContainerStop(
    id: string,
    q: { signal?: string; t?: number },
    ctx: OperationContext,
  ): Promise<'stopped' | 'already-stopped'>;
  ContainerRestart(
    id: string,
    q: { signal?: string; t?: number },
    ctx: OperationContext,
  ): Promise<void>;
  ContainerKill(id: string, signal: string, ctx: OperationContext): Promise<void>;
  ContainerWait(
    id: string,
    condition: 'not-running' | 'next-exit' | 'removed',
    ctx: OperationContext,
  ): Promise<{ StatusCode: number; Error?: { Message: string } }>;
  ContainerDelete(
    id: string,
    q: { force: boolean; v: boolean; link: boolean },
    ctx: OperationContext,
  ): Promise<void>;
  ContainerLogs(
    id: string,
    q: ContainerLogsQuery,
    out: Writable,
    ctx: OperationContext,
  ): Promise<void>;
  ContainerAttach(
    id: string,
    q: { logs: boolean; stream: boolean; detachKeys?: string },
    streams: AttachStreams,
    ctx: OperationContext,
  ): Promise<void>;
  ContainerTop(
    id: string,
    psArgs: string,
    ctx: OperationContext,
  ): Promise<{ Titles: string[]; Processes: string[][] }>;
  ContainerStats(
    id: string,
    q: { stream: boolean; oneShot: boolean },
    out: Writable,
    ctx: OperationContext,
  ): Promise<void>;
  ContainerPause(id: string, ctx: OperationContext): Promise<void>;
  ContainerUnpause(id: string, ctx: OperationContext): Promise<void>;
  ContainerRename(id: string, name: string, ctx: OperationContext): Promise<void>;
  ContainerUpdate(
    id: string,
    resources: Record<string, unknown>,
    ctx: OperationContext,
  ): Promise<{ Warnings: string[] }>;
  ContainerResize(id: string, h: number, w: number, ctx: OperationContext): Promise<void>;
  /** Stat of a path in the container (`HEAD /containers/{id}/archive`). */
  ContainerArchiveInfo(id: string, path: string, ctx: OperationContext): Promise<ContainerPathStat>;
  /**
   * Tar of a path in the container (`GET /containers/{id}/archive`): `open(stat)` is called once
   * the path is found, before the first byte, and returns where the tar goes.
   */
  ContainerArchive(
    id: string,
    path: string,
    open: (stat: ContainerPathStat) => Writable,
    ctx: OperationContext,
  ): Promise<void>;
  PutContainerArchive(
    id: string,
    path: string,
    q: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
    tar: Readable,
    ctx: OperationContext,
  ): Promise<void>;
  ContainerPrune(
    filters: ApiFilters,
    ctx: OperationContext,
  ): Promise<Dockerode.PruneContainersInfo>;
  ExecCreate(
    id: string,
    body: Omit<Dockerode.ExecCreateOptions, 'abortSignal'>,
    ctx: OperationContext,
  ): Promise<{ Id: string }>;
  ExecStart(
    execId: string,
    body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] },
    streams: AttachStreams | undefined,
    ctx: OperationContext,
  ): Promise<void>;
  ExecInspect(execId: string, ctx: OperationContext): Promise<Dockerode.ExecInspectInfo>;
  ExecResize(execId: string, h: number, w: number, ctx: OperationContext): Promise<void>;
  /** Counts for `/info`. */
  counts(): Promise<{ total: number; running: number; paused: number; stopped: number }>;
}

/**
 * The query of `POST /images/create?fromSrc=-` (`docker import`): `repo` and `tag` name the new
 * image, `changes` are Dockerfile instructions applied to its config, `message` its history
 * comment, `platform` `os/arch[/variant]` (default the host's).
 */
export interface ImageImportQuery {
  repo?: string;
  tag?: string;
  changes: readonly string[];
  message?: string;
  platform?: string;
}

/** Images (API "Image" section). */
export interface ImageService {
  ImageList(
    q: { all: boolean; digests: boolean; filters: ApiFilters },
    ctx: OperationContext,
  ): Promise<Dockerode.ImageInfo[]>;
  /**
   * Pull: writes Docker's JSON progress lines to the stream `open()` returns (called once the
   * request is valid; failures after it arrive as an `errorDetail` line).
   * @throws TscError TSC_IMAGE_REFERENCE (400) for an invalid name, before `open()`
   */
  ImageCreate(
    q: { fromImage: string; tag?: string; platform?: string; auth?: string },
    open: () => Writable,
    ctx: OperationContext,
  ): Promise<void>;
  /**
   * Import (`POST /images/create?fromSrc=-`, `docker import`): `tar` is a rootfs tar (plain, gzip
   * or zstd); writes Docker's `{"status":"sha256:<id>"}` line to `out`.
   * @throws UsageError for an invalid change; TscError TSC_IMAGE_UNPACK for a bad tar
   */
  ImageImport(
    tar: Readable,
    q: ImageImportQuery,
    out: Writable,
    ctx: OperationContext,
  ): Promise<void>;
  ImageInspect(name: string, ctx: OperationContext): Promise<Dockerode.ImageInspectInfo>;
  ImageHistory(
    name: string,
    ctx: OperationContext,
  ): Promise<
    Array<{
      Id: string;
      Created: number;
      CreatedBy: string;
      Tags: string[] | null;
      Size: number;
      Comment: string;
    }>
  >;
  ImageTag(
    name: string,
    repo: string,
    tag: string | undefined,
    ctx: OperationContext,
  ): Promise<void>;
  ImageDelete(
    name: string,
    q: { force: boolean; noprune: boolean },
    ctx: OperationContext,
  ): Promise<Dockerode.ImageRemoveInfo[]>;
  ImagePrune(filters: ApiFilters, ctx: OperationContext): Promise<Dockerode.PruneImagesInfo>;
  ImageLoad(tar: Readable, quiet: boolean, out: Writable, ctx: OperationContext): Promise<void>;
  /**
   * `docker save`: every name is resolved first (404 before any byte), then `open()` gives the
   * stream the tar goes to.
   */
  ImageGet(names: readonly string[], open: () => Writable, ctx: OperationContext): Promise<void>;
  /** Count for `/info`. */
  count(): Promise<number>;
}

/** Networks (API "Network" section). */
export interface NetworkService {
  NetworkList(filters: ApiFilters, ctx: OperationContext): Promise<Dockerode.NetworkInspectInfo[]>;
  NetworkInspect(
    id: string,
    q: { verbose: boolean; scope?: string },
    ctx: OperationContext,
  ): Promise<Dockerode.NetworkInspectInfo>;
  NetworkCreate(
    body: Omit<Dockerode.NetworkCreateOptions, 'abortSignal'>,
    ctx: OperationContext,
  ): Promise<{ Id: string; Warning: string }>;
  NetworkDelete(id: string, ctx: OperationContext): Promise<void>;
  NetworkConnect(
    id: string,
    body: { Container: string; EndpointConfig?: Record<string, unknown> },
    ctx: OperationContext,
  ): Promise<void>;
  NetworkDisconnect(
    id: string,
    body: { Container: string; Force?: boolean },
    ctx: OperationContext,
  ): Promise<void>;
  NetworkPrune(filters: ApiFilters, ctx: OperationContext): Promise<Dockerode.PruneNetworksInfo>;
}

/** Sections of `GET /system/df` (its `type` query, API 1.42+). */
export const DATA_USAGE_TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

/** One section of `GET /system/df`. */
export type DataUsageType = (typeof DATA_USAGE_TYPES)[number];

/** The services a daemon has; absent ones make their routes answer 501. */
export interface EngineServices {
  readonly containers?: ContainerService;
  readonly images?: ImageService;
  readonly networks?: NetworkService;
}
