/**
 * OCI image-spec and Docker schema2 data types, media types, digests, DiffID/ChainID math and
 * platform matching. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { TscError } from '../../base/errors.js';

/** Media types of indexes/manifests/configs/layers (image-spec, containerd `mediatypes.go`). */
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** The manifest Accept header containerd/Docker send (engine-reference §5.5). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  '*/*',
].join(', ');

/** Largest manifest or index accepted, bytes (containerd `MaxManifestSize`, 4*1048*1048). */
export const MAX_MANIFEST_SIZE = 4 * 1048 * 1048;

/** An OCI platform (image-spec `image-index.md`). */
export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string | undefined;
  readonly 'os.version'?: string | undefined;
  readonly 'os.features'?: readonly string[] | undefined;
}

/** A content descriptor (image-spec `descriptor.md`). Size in bytes. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[] | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly platform?: Platform | undefined;
}

/** An image manifest, OCI or Docker schema2 (same JSON shape). */
export interface Manifest {
  readonly schemaVersion: number;
  readonly mediaType?: string | undefined;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

/** An image index or Docker manifest list. */
export interface Index {
  readonly schemaVersion: number;
  readonly mediaType?: string | undefined;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

/** Docker `HealthConfig` (durations in nanoseconds, as in the image config JSON). */
export interface HealthConfig {
  readonly Test?: readonly string[] | undefined;
  readonly Interval?: number | undefined;
  readonly Timeout?: number | undefined;
  readonly StartPeriod?: number | undefined;
  readonly StartInterval?: number | undefined;
  readonly Retries?: number | undefined;
}

/** The runtime part of an image config (image-spec `config.md` `config`, Docker extensions). */
export interface ImageRuntimeConfig {
  readonly User?: string | undefined;
  readonly ExposedPorts?: Readonly<Record<string, object>> | undefined;
  readonly Env?: readonly string[] | undefined;
  readonly Entrypoint?: readonly string[] | null | undefined;
  readonly Cmd?: readonly string[] | null | undefined;
  readonly Volumes?: Readonly<Record<string, object>> | undefined;
  readonly WorkingDir?: string | undefined;
  readonly Labels?: Readonly<Record<string, string>> | undefined;
  readonly StopSignal?: string | undefined;
  readonly Healthcheck?: HealthConfig | undefined;
  readonly ArgsEscaped?: boolean | undefined;
  readonly OnBuild?: readonly string[] | null | undefined;
  readonly Shell?: readonly string[] | undefined;
}

/** One history entry of an image config. */
export interface HistoryEntry {
  readonly created?: string | undefined;
  readonly created_by?: string | undefined;
  readonly author?: string | undefined;
  readonly comment?: string | undefined;
  readonly empty_layer?: boolean | undefined;
}

/** An image config blob (image-spec `config.md`). Its digest is the image ID. */
export interface ImageConfig {
  readonly created?: string | undefined;
  readonly author?: string | undefined;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string | undefined;
  readonly 'os.version'?: string | undefined;
  readonly config?: ImageRuntimeConfig | undefined;
  readonly rootfs: { readonly type: string; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[] | undefined;
  readonly comment?: string | undefined;
  readonly docker_version?: string | undefined;
}

/** True for index/list media types. */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

/** True for single-image manifest media types. */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

/** `sha256:<hex>` of bytes. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * Checks a digest is `sha256:<64 hex>` and returns the hex part (the store supports sha256 only).
 * @throws TscError TSC_IMAGE_DIGEST for any other form
 */
export function digestHex(digest: string): string {
  if (!DIGEST_RE.test(digest)) {
    throw new TscError('TSC_IMAGE_DIGEST', `parse digest ${JSON.stringify(digest)}: unsupported`);
  }
  return digest.slice(7);
}

/** True for a well-formed `sha256:<64 hex>`. */
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/**
 * ChainIDs of a layer stack, bottom to top (image-spec `config.md#layer-chainid`):
 * `ChainID(L0) = DiffID(L0)`, `ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(n))`.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev: string | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : sha256Digest(`${prev} ${d}`);
    out.push(prev);
  }
  return out;
}

/** The layer compression, from its media type (`+gzip`, `.gzip`, `+zstd`, `.zstd`). */
export function compressionOf(mediaType: string): 'gzip' | 'zstd' | 'none' | 'unknown' {
  if (/[+.]gzip$/.test(mediaType)) return 'gzip';
  if (/[+.]zstd$/.test(mediaType)) return 'zstd';
  if (/(\.v1\.tar|\.diff\.tar)$/.test(mediaType)) return 'none';
  return 'unknown';
}

/**
 * Normalises an architecture/variant pair (`containerd/platforms` `database.go#normalizeArch`):
 * `x86_64` -> `amd64`, `aarch64` -> `arm64`, `armhf` -> `arm/v7`, `arm` -> `arm/v7`, ...
 */
export function normalizeArch(
  arch: string,
  variant = '',
): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      if (v === 'v1') v = '';
      return { architecture: 'amd64', variant: v };
    case 'aarch64':
    case 'arm64':
      if (v === '8' || v === 'v8') v = '';
      return { architecture: 'arm64', variant: v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      return { architecture: 'arm', variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

/**
 * Parses `os[/arch[/variant]]` (compose `platform:`, `DOCKER_DEFAULT_PLATFORM`) and normalises it.
 * @throws TscError TSC_IMAGE_REFERENCE for an empty or malformed specifier
 */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new TscError('TSC_IMAGE_REFERENCE', `parse platform ${JSON.stringify(spec)}: invalid`);
  }
  const os = (parts[0] ?? '').toLowerCase();
  const { architecture, variant } = normalizeArch(parts[1] ?? hostArch(), parts[2] ?? '');
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** Node's `process.arch` as an OCI architecture. */
export function hostArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
  return map[process.arch] ?? process.arch;
}

/** The platform to pull: `platform` if given, else `DOCKER_DEFAULT_PLATFORM`, else the host. */
export function defaultPlatform(
  platform?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Platform {
  const spec = platform ?? env.DOCKER_DEFAULT_PLATFORM;
  if (spec !== undefined && spec !== '') return parsePlatform(spec);
  return parsePlatform(`linux/${hostArch()}`);
}

/** `os/arch[/variant]`. */
export function renderPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * The candidates a host platform accepts, best first (`containerd/platforms` `compare.go`):
 * amd64 then 386; arm64 then arm v8..v5; arm/vN then lower arm variants.
 */
function platformVector(want: Platform): Array<{ architecture: string; variant: string }> {
  const { architecture, variant } = normalizeArch(want.architecture, want.variant ?? '');
  const out = [{ architecture, variant }];
  if (architecture === 'amd64') {
    const level = Number(/^v(\d)$/.exec(variant)?.[1] ?? '1');
    for (let i = level - 1; i >= 2; i--) out.push({ architecture, variant: `v${i}` });
    if (variant !== '') out.push({ architecture, variant: '' });
    out.push({ architecture: '386', variant: '' });
  } else if (architecture === 'arm64') {
    for (const v of ['v8', 'v7', 'v6', 'v5']) out.push({ architecture: 'arm', variant: v });
  } else if (architecture === 'arm') {
    const level = Number(/^v(\d)$/.exec(variant)?.[1] ?? '7');
    for (let i = level - 1; i >= 5; i--) out.push({ architecture, variant: `v${i}` });
  }
  return out;
}

/** Annotation marking a BuildKit attestation manifest in an index. */
export const ATTESTATION_ANNOTATION = 'vnd.docker.reference.type';

/**
 * Picks the best manifest of an index for a platform, skipping attestation entries; undefined when
 * nothing matches (the caller reports `no matching manifest for linux/amd64 in the manifest list
 * entries`).
 */
export function selectManifest(index: Index, want: Platform): Descriptor | undefined {
  const vector = platformVector(want);
  let best: { rank: number; desc: Descriptor } | undefined;
  for (const desc of index.manifests) {
    if (desc.annotations?.[ATTESTATION_ANNOTATION] === 'attestation-manifest') continue;
    const p = desc.platform;
    if (!p || p.os.toLowerCase() !== want.os) continue;
    const n = normalizeArch(p.architecture, p.variant ?? '');
    const rank = vector.findIndex(
      (c) => c.architecture === n.architecture && c.variant === n.variant,
    );
    if (rank >= 0 && (best === undefined || rank < best.rank)) best = { rank, desc };
  }
  return best?.desc;
}
