/**
 * Distribution API client (dist-spec `spec.md`, token-spec): manifests, blobs, push, Bearer/Basic
 * auth, mirrors, insecure registries, redirects, retries. Talks HTTP only; stores through a
 * BlobWriter it is given and makes no decisions about images or snapshots.
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TscError } from '../../base/errors.js';
import type { BlobWriter } from './content-store.js';
import {
  MANIFEST_ACCEPT,
  MAX_MANIFEST_SIZE,
  MEDIA_TYPES,
  sha256Digest,
  type Descriptor,
} from './oci.js';
import { DEFAULT_DOMAIN, renderReference, type ImageReference } from './reference.js';

/** The host serving Docker Hub's API (`moby:daemon/pkg/registry/config.go` DefaultRegistryHost). */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
/** The `~/.docker/config.json` key of Docker Hub credentials. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** Registry settings of the engine config (daemon.json `registry-mirrors`, `insecure-registries`). */
export interface RegistryConfig {
  /** Mirrors for Docker Hub only, tried in order before Docker Hub (`https://` added if missing). */
  readonly registryMirrors?: readonly string[] | undefined;
  /**
   * Registries reachable over plain HTTP: `host`, `host:port` or a CIDR. `127.0.0.0/8`, `::1/128`
   * and `localhost` are always insecure.
   */
  readonly insecureRegistries?: readonly string[] | undefined;
}

/**
 * Reads the registry keys of a daemon.json-shaped object (`registry-mirrors`,
 * `insecure-registries`, or the camelCase names).
 */
export function parseRegistryConfig(json: Readonly<Record<string, unknown>>): RegistryConfig {
  const list = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
  return {
    registryMirrors: list(json['registry-mirrors'] ?? json.registryMirrors),
    insecureRegistries: list(json['insecure-registries'] ?? json.insecureRegistries),
  };
}

/** Registry credentials: user name and password (or a token used as password). */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Returns the credentials for a registry host (`docker.io`, `localhost:5000`), if any. */
export type CredentialLookup = (domain: string) => Credentials | undefined;

function hostOfAuthKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

/**
 * Credentials from a Docker CLI config file (`$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`): `auths.<host>.auth` (base64 `user:pass`) or `username`/`password`.
 * Keys may carry a scheme and path; Docker Hub is `https://index.docker.io/v1/`. Credential
 * helpers are not consulted.
 */
export function dockerConfigCredentials(configFile?: string): CredentialLookup {
  const file =
    configFile ??
    path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
  let auths: Record<string, { auth?: string; username?: string; password?: string }> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { auths?: typeof auths };
    auths = parsed.auths ?? {};
  } catch {
    auths = {};
  }
  return (domain) => {
    const want = domain === DEFAULT_DOMAIN ? 'index.docker.io' : domain;
    for (const [key, entry] of Object.entries(auths)) {
      const host = hostOfAuthKey(key);
      if (host !== want && !(domain === DEFAULT_DOMAIN && host === DEFAULT_DOMAIN)) continue;
      if (entry.auth) {
        const text = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = text.indexOf(':');
        if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
      }
      if (entry.username && entry.password) {
        return { username: entry.username, password: entry.password };
      }
    }
    return undefined;
  };
}

/** Progress of one blob transfer. Sizes in bytes. */
export interface TransferProgress {
  /** The blob's digest. */
  readonly digest: string;
  /** Bytes transferred so far (counts from 0 again after a restart). */
  readonly current: number;
  /** Expected size from the descriptor. */
  readonly total: number;
  /** `downloading`, `retrying`, `done`, `exists` (already stored, skipped). */
  readonly status: 'downloading' | 'retrying' | 'done' | 'exists' | 'uploading';
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Mirrors and insecure registries. */
  readonly config?: RegistryConfig | undefined;
  /** Credentials per registry domain; default {@link dockerConfigCredentials}(). */
  readonly credentials?: CredentialLookup | undefined;
  /** Attempts per request on network errors, 429 and 5xx (default 4). */
  readonly attempts?: number | undefined;
  /** First backoff delay in ms, doubled each retry (default 200). */
  readonly backoffMs?: number | undefined;
  /** The fetch implementation (default the global one). */
  readonly fetch?: typeof fetch | undefined;
}

/** A fetched manifest or index: its bytes, digest and media type. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses `WWW-Authenticate` (RFC 7235): `Bearer realm="...",service="...",scope="..."`; several
 * challenges may be comma-joined.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  const re =
    /\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+|$)|\s*,?\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?/y;
  let pos = 0;
  while (pos < header.length) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (!m || re.lastIndex === pos) break;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      out.push({ scheme: m[1].toLowerCase(), params: {} });
    } else if (m[2] !== undefined && out.length > 0) {
      const value = m[4] !== undefined ? m[4].replace(/\\(.)/g, '$1') : (m[3] ?? '');
      out[out.length - 1]!.params[m[2].toLowerCase()] = value;
    }
  }
  return out;
}

const insecureDefaults = new BlockList();
insecureDefaults.addSubnet('127.0.0.0', 8, 'ipv4');
insecureDefaults.addAddress('::1', 'ipv6');

/** The host part of `host[:port]` (IPv6 brackets removed). */
function hostOnly(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const i = domain.lastIndexOf(':');
  return i > -1 ? domain.slice(0, i) : domain;
}

/**
 * True when a registry may be used over plain HTTP (`moby:daemon/pkg/registry/config.go`
 * `isSecureIndex`): listed by name, inside a listed CIDR, loopback, or `localhost`.
 */
export function isInsecureRegistry(domain: string, config: RegistryConfig = {}): boolean {
  const host = hostOnly(domain);
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family !== 0 && insecureDefaults.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
  for (const entry of config.insecureRegistries ?? []) {
    if (entry === domain || entry === host) return true;
    const slash = entry.indexOf('/');
    if (slash > 0 && family !== 0) {
      const net = entry.slice(0, slash);
      const netFamily = isIP(net);
      if (netFamily !== family) continue;
      const bl = new BlockList();
      bl.addSubnet(net, Number(entry.slice(slash + 1)), family === 4 ? 'ipv4' : 'ipv6');
      if (bl.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
    }
  }
  return false;
}

/**
 * The base URLs to try for a registry domain, in order (`moby:service_v2.go#lookupV2Endpoints`):
 * Docker Hub: each mirror then `https://registry-1.docker.io`; others: `https://host`, then
 * `http://host` when insecure.
 */
export function registryEndpoints(domain: string, config: RegistryConfig = {}): string[] {
  if (domain === DEFAULT_DOMAIN) {
    const mirrors = (config.registryMirrors ?? []).map((m) =>
      (/^[a-z]+:\/\//i.test(m) ? m : `https://${m}`).replace(/\/+$/, ''),
    );
    return [...mirrors, `https://${DOCKER_HUB_HOST}`];
  }
  const out = [`https://${domain}`];
  if (isInsecureRegistry(domain, config)) out.push(`http://${domain}`);
  return out;
}

function pullError(what: string, detail: string, cause?: unknown): TscError {
  return new TscError('TSC_IMAGE_PULL', `${what}: ${detail}`, cause === undefined ? {} : { cause });
}

/** A transport failure worth retrying (connection reset, timeout, 5xx, 429). */
class Retryable extends TscError {
  constructor(
    readonly reason: string,
    cause?: unknown,
  ) {
    super('TSC_IMAGE_PULL', reason, cause === undefined ? {} : { cause });
  }
}

async function registryErrorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = body.errors?.[0];
    if (first) return (first.message ?? first.code ?? '').toLowerCase();
  } catch {
    // not JSON: fall through to the status
  }
  return `${res.status} ${res.statusText}`.toLowerCase();
}

/** 404 errors: the next endpoint (another mirror, Docker Hub) may still have the content. */
const endpointMisses = new WeakSet<TscError>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Action = 'pull' | 'push';

/**
 * A client for registries speaking the distribution API. One instance caches tokens per
 * (realm, service, scope) and the working endpoint per domain.
 */
export class RegistryClient {
  private readonly config: RegistryConfig;
  private readonly credentials: CredentialLookup;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly challenges = new Map<string, Challenge>();
  private readonly working = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.config = options.config ?? {};
    this.credentials = options.credentials ?? dockerConfigCredentials();
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The endpoints for a domain, the last one that worked first. */
  private endpoints(domain: string): string[] {
    const all = registryEndpoints(domain, this.config);
    const w = this.working.get(domain);
    return w ? [w, ...all.filter((e) => e !== w)] : all;
  }

  private scopeFor(ref: ImageReference, action: Action): string {
    return `repository:${ref.path}:${action === 'push' ? 'pull,push' : 'pull'}`;
  }

  private async fetchToken(
    challenge: Challenge,
    scope: string,
    creds: Credentials | undefined,
  ): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw pullError('authenticate', 'bearer challenge without realm');
    const key = `${realm}|${challenge.params.service ?? ''}|${scope}|${creds?.username ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.token;
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (creds) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers });
    } catch (e) {
      throw pullError(`fetch token from ${url.origin}`, 'request failed', e);
    }
    if (!res.ok) {
      throw pullError(`fetch token from ${url.origin}`, await registryErrorText(res));
    }
    const body = (await res.json()) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = body.token ?? body.access_token;
    if (!token) throw pullError(`fetch token from ${url.origin}`, 'no token in response');
    const ttl = (body.expires_in ?? 60) * 1000;
    this.tokens.set(key, { token, expires: Date.now() + Math.max(ttl - 5000, 1000) });
    return token;
  }

  private async authHeader(
    base: string,
    domain: string,
    scope: string,
  ): Promise<string | undefined> {
    const challenge = this.challenges.get(base);
    if (!challenge) return undefined;
    const creds = this.credentials(domain);
    if (challenge.scheme === 'bearer') {
      return `Bearer ${await this.fetchToken(challenge, scope, creds)}`;
    }
    if (challenge.scheme === 'basic' && creds) {
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /**
   * One authenticated request to a registry endpoint: answers 401 challenges once (Bearer token
   * or Basic), follows redirects without forwarding Authorization to other origins.
   */
  private async request(
    base: string,
    domain: string,
    scope: string,
    pathAndQuery: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array | undefined },
  ): Promise<Response> {
    for (let round = 0; round < 2; round++) {
      const auth = await this.authHeader(base, domain, scope);
      const res = await this.followRedirects(new URL(pathAndQuery, base), base, init, auth);
      if (res.status !== 401 || round === 1) return res;
      const header = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      const parsed = parseWwwAuthenticate(header);
      const challenge =
        parsed.find((c) => c.scheme === 'bearer') ?? parsed.find((c) => c.scheme === 'basic');
      if (!challenge) return res;
      const before = this.challenges.get(base);
      this.challenges.set(base, challenge);
      if (before && before.scheme === 'basic' && challenge.scheme === 'basic') return res;
      if (challenge.scheme === 'bearer') {
        // a rejected cached token must not be reused
        const creds = this.credentials(domain);
        const key = `${challenge.params.realm ?? ''}|${challenge.params.service ?? ''}|${scope}|${creds?.username ?? ''}`;
        this.tokens.delete(key);
      }
    }
    throw pullError('request', 'unreachable');
  }

  private async followRedirects(
    url: URL,
    base: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array | undefined },
    auth: string | undefined,
  ): Promise<Response> {
    const origin = new URL(base).origin;
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (auth && current.origin === origin) headers.authorization = auth;
      const res = await this.fetchImpl(current, {
        method: init.method,
        headers,
        redirect: 'manual',
        ...(init.body ? { body: init.body } : {}),
      });
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location) return res;
      current = new URL(location, current);
    }
    throw pullError(`fetch ${url.href}`, 'too many redirects');
  }

  /**
   * Runs `op` against each endpoint of the domain with retries (network errors, 429, 5xx,
   * exponential backoff). Moves to the next endpoint (mirror, plain HTTP) when one fails.
   */
  private async withEndpoints<T>(
    ref: ImageReference,
    what: string,
    op: (base: string) => Promise<T>,
  ): Promise<T> {
    let last: unknown;
    for (const base of this.endpoints(ref.domain)) {
      for (let attempt = 0; attempt < this.attempts; attempt++) {
        try {
          const out = await op(base);
          this.working.set(ref.domain, base);
          return out;
        } catch (e) {
          last = e;
          if (e instanceof Retryable) {
            if (attempt + 1 < this.attempts && !e.reason.startsWith('connect')) {
              await sleep(this.backoffMs * 2 ** attempt);
              continue;
            }
            break;
          }
          if (e instanceof TscError && endpointMisses.has(e)) break;
          throw e;
        }
      }
    }
    if (last instanceof Retryable) throw pullError(what, last.reason, last.cause);
    if (last instanceof TscError) throw last;
    throw pullError(what, 'no endpoint answered', last);
  }

  /** Wraps fetch errors and retryable statuses. */
  private async send(
    base: string,
    ref: ImageReference,
    action: Action,
    pathAndQuery: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array | undefined },
  ): Promise<Response> {
    let res: Response;
    try {
      res = await this.request(base, ref.domain, this.scopeFor(ref, action), pathAndQuery, init);
    } catch (e) {
      if (e instanceof TscError) throw e;
      const code = (e as { cause?: { code?: string } }).cause?.code ?? '';
      const reason = /ECONNREFUSED|EPROTO|ERR_SSL|ENOTFOUND|EAI_AGAIN|CERT|TLS/i.test(
        `${code} ${String(e)}`,
      )
        ? `connect ${base}: ${code || String(e)}`
        : `request ${base}: ${code || String(e)}`;
      throw new Retryable(reason, e);
    }
    if (res.status === 429 || res.status >= 500) {
      await res.body?.cancel();
      throw new Retryable(`${init.method} ${pathAndQuery}: ${res.status} ${res.statusText}`);
    }
    return res;
  }

  /**
   * Resolves a reference to a descriptor with `HEAD /v2/<repo>/manifests/<tag|digest>`
   * (`Docker-Content-Digest`, `Content-Type`, `Content-Length`). Returns undefined when the
   * registry answers without a digest header (the caller then GETs).
   * @throws TscError TSC_IMAGE_PULL (not found, unauthorized, network)
   */
  async resolve(ref: ImageReference): Promise<Descriptor | undefined> {
    const what = `resolve ${renderReference(ref)}`;
    const target = ref.digest ?? ref.tag ?? 'latest';
    return this.withEndpoints(ref, what, async (base) => {
      const res = await this.send(base, ref, 'pull', `/v2/${ref.path}/manifests/${target}`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (!res.ok) throw this.statusError(what, res, await registryErrorText(res));
      const digest = res.headers.get('docker-content-digest');
      const mediaType = res.headers.get('content-type');
      const size = Number(res.headers.get('content-length') ?? 'NaN');
      if (!digest || !mediaType || !Number.isFinite(size)) return undefined;
      return { digest, mediaType: mediaType.split(';')[0]!.trim(), size };
    });
  }

  private statusError(what: string, res: Response, text: string): TscError {
    if (res.status === 404) {
      const e = pullError(what, text);
      endpointMisses.add(e);
      return e;
    }
    if (res.status === 401 || res.status === 403) {
      return new TscError('TSC_IMAGE_PULL', `${what}: ${text}`, {
        hint: 'log in to the registry or check the credentials in ~/.docker/config.json',
      });
    }
    return pullError(what, text);
  }

  /**
   * Fetches a manifest or index by tag or digest (`GET /v2/<repo>/manifests/<ref>`), at most
   * {@link MAX_MANIFEST_SIZE} bytes. A digest reference is verified against the body.
   * @throws TscError TSC_IMAGE_PULL, TSC_IMAGE_DIGEST on mismatch or oversize
   */
  async fetchManifest(ref: ImageReference, target?: string): Promise<FetchedManifest> {
    const what = `pull ${renderReference(ref)}`;
    const want = target ?? ref.digest ?? ref.tag ?? 'latest';
    return this.withEndpoints(ref, what, async (base) => {
      const res = await this.send(base, ref, 'pull', `/v2/${ref.path}/manifests/${want}`, {
        method: 'GET',
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (!res.ok) throw this.statusError(what, res, await registryErrorText(res));
      const length = Number(res.headers.get('content-length') ?? '0');
      if (length > MAX_MANIFEST_SIZE) {
        await res.body?.cancel();
        throw new TscError(
          'TSC_IMAGE_DIGEST',
          `${what}: manifest larger than ${MAX_MANIFEST_SIZE} bytes`,
        );
      }
      const bytes = await readCapped(res, MAX_MANIFEST_SIZE, what);
      const digest = sha256Digest(bytes);
      if (want.startsWith('sha256:') && digest !== want) {
        throw new TscError(
          'TSC_IMAGE_DIGEST',
          `${what}: manifest has digest ${digest}, want ${want}`,
        );
      }
      const header = res.headers.get('docker-content-digest');
      if (header && header.startsWith('sha256:') && header !== digest) {
        throw new TscError(
          'TSC_IMAGE_DIGEST',
          `${what}: manifest has digest ${digest}, registry says ${header}`,
        );
      }
      let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const parsed = JSON.parse(bytes.toString('utf8')) as {
        mediaType?: string;
        manifests?: unknown;
      };
      if (parsed.mediaType) mediaType = parsed.mediaType;
      else if (!mediaType || mediaType === 'application/json') {
        mediaType = parsed.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
      }
      if (
        mediaType === MEDIA_TYPES.dockerSchema1Signed ||
        mediaType === 'application/vnd.docker.distribution.manifest.v1+json'
      ) {
        throw pullError(what, `unsupported manifest media type ${mediaType}`);
      }
      return { bytes, digest, mediaType };
    });
  }

  /**
   * Downloads a blob into `writer` (`GET /v2/<repo>/blobs/<digest>`), following redirects to
   * blob storage, resuming with `Range` after an interruption when the server allows it,
   * otherwise restarting from byte 0. The writer is committed (verified) on success.
   * @throws TscError TSC_IMAGE_PULL, TSC_IMAGE_DIGEST (the writer is aborted: nothing stored)
   */
  async fetchBlob(
    ref: ImageReference,
    desc: Descriptor,
    writer: BlobWriter,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<void> {
    const what = `pull ${renderReference(ref)}: blob ${desc.digest}`;
    try {
      await this.withEndpoints(ref, what, async (base) => {
        const headers: Record<string, string> = {};
        if (writer.written > 0) headers.range = `bytes=${writer.written}-`;
        const res = await this.send(base, ref, 'pull', `/v2/${ref.path}/blobs/${desc.digest}`, {
          method: 'GET',
          headers,
        });
        if (res.status === 206) {
          const start = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
          if (Number(start) !== writer.written) await writer.reset();
        } else if (res.ok) {
          if (writer.written > 0) await writer.reset();
        } else {
          throw this.statusError(what, res, await registryErrorText(res));
        }
        if (!res.body) throw pullError(what, 'empty response');
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            await writer.write(chunk);
            onProgress?.({
              digest: desc.digest,
              current: writer.written,
              total: desc.size,
              status: 'downloading',
            });
          }
        } catch (e) {
          if (e instanceof TscError) throw e;
          onProgress?.({
            digest: desc.digest,
            current: writer.written,
            total: desc.size,
            status: 'retrying',
          });
          throw new Retryable(`download interrupted after ${writer.written} bytes`, e);
        }
        if (writer.written < desc.size) {
          onProgress?.({
            digest: desc.digest,
            current: writer.written,
            total: desc.size,
            status: 'retrying',
          });
          throw new Retryable(`download interrupted after ${writer.written} bytes`);
        }
      });
      await writer.commit();
      onProgress?.({ digest: desc.digest, current: desc.size, total: desc.size, status: 'done' });
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  /**
   * Uploads a blob unless the registry has it (`HEAD` then `POST` + monolithic `PUT`,
   * dist-spec "Pushing blobs").
   * @throws TscError TSC_IMAGE_PULL on any registry failure
   */
  async pushBlob(ref: ImageReference, digest: string, data: Uint8Array): Promise<void> {
    const what = `push ${renderReference(ref)}: blob ${digest}`;
    await this.withEndpoints(ref, what, async (base) => {
      const head = await this.send(base, ref, 'push', `/v2/${ref.path}/blobs/${digest}`, {
        method: 'HEAD',
      });
      await head.body?.cancel();
      if (head.ok) return;
      const start = await this.send(base, ref, 'push', `/v2/${ref.path}/blobs/uploads/`, {
        method: 'POST',
      });
      if (start.status !== 202) throw this.statusError(what, start, await registryErrorText(start));
      await start.body?.cancel();
      const location = start.headers.get('location');
      if (!location) throw pullError(what, 'upload without location');
      const url = new URL(location, base);
      url.searchParams.set('digest', digest);
      const put = await this.send(base, ref, 'push', url.pathname + url.search, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: data,
      });
      if (put.status !== 201) throw this.statusError(what, put, await registryErrorText(put));
      await put.body?.cancel();
    });
  }

  /**
   * Uploads a manifest or index under a tag or digest (`PUT /v2/<repo>/manifests/<ref>`).
   * @throws TscError TSC_IMAGE_PULL on any registry failure
   */
  async pushManifest(
    ref: ImageReference,
    target: string,
    mediaType: string,
    bytes: Uint8Array,
  ): Promise<void> {
    const what = `push ${renderReference(ref)}: manifest`;
    await this.withEndpoints(ref, what, async (base) => {
      const res = await this.send(base, ref, 'push', `/v2/${ref.path}/manifests/${target}`, {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: bytes,
      });
      if (res.status !== 201) throw this.statusError(what, res, await registryErrorText(res));
      await res.body?.cancel();
    });
  }
}

async function readCapped(res: Response, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) {
      throw new TscError('TSC_IMAGE_DIGEST', `${what}: manifest larger than ${max} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Runs async tasks with at most `limit` in flight (Docker's `max-concurrent-downloads`, 3).
 * Rejects with the first failure after every started task has settled.
 */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.e as Error;
}
