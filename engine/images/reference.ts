/**
 * Image reference parsing and normalisation, matching Docker (`distribution/reference`
 * normalize.go + regexp.go). Pure: no I/O. Knows nothing of registries' hosts or credentials.
 */
import { TscError } from '../../base/errors.js';

/** The default registry domain of familiar names (`redis` lives on `docker.io`). */
export const DEFAULT_DOMAIN = 'docker.io';
/** The legacy Docker Hub domain, rewritten to {@link DEFAULT_DOMAIN}. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
/** The namespace single-component Docker Hub paths live in. */
export const OFFICIAL_REPO_PREFIX = 'library/';
/** The tag added when a reference has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';
/** Longest repository name (domain + path), in characters (`reference:reference.go#NameTotalLengthMax`). */
export const NAME_TOTAL_LENGTH_MAX = 255;

// reference:regexp.go, written out as strings so each piece can be read on its own.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const TAG_RE = new RegExp(`^${TAG}$`);

/** A fully normalised image reference (`docker.io/library/redis:latest`). */
export interface ImageReference {
  /** Registry domain with optional port (`docker.io`, `localhost:5000`). */
  readonly domain: string;
  /** Repository path inside the registry (`library/redis`). */
  readonly path: string;
  /** Tag, when given or defaulted (only absent for digest-only references). */
  readonly tag?: string | undefined;
  /** Digest `algorithm:hex`, when given; a pull uses it in preference to the tag. */
  readonly digest?: string | undefined;
}

function invalid(input: string, detail: string): TscError {
  return new TscError('TSC_IMAGE_REFERENCE', detail, {
    hint: `check the image reference "${input}"`,
  });
}

/**
 * Splits a name into domain and remainder like `reference:normalize.go#splitDockerDomain`: the
 * first component is a domain iff it is `localhost`, contains `.` or `:`, or has upper case.
 */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) {
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  }
  return { domain, remainder };
}

/** Validates a digest the way `opencontainers/go-digest#Parse` does for known algorithms. */
function checkDigest(input: string, digest: string): void {
  const sep = digest.indexOf(':');
  const algorithm = digest.slice(0, sep);
  const hex = digest.slice(sep + 1);
  const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  const want = lengths[algorithm];
  if (want === undefined) throw invalid(input, 'unsupported digest algorithm');
  if (hex.length !== want) throw invalid(input, 'invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid(input, 'invalid checksum digest format');
}

/**
 * Parses a reference as the user typed it and normalises it like Docker's
 * `ParseNormalizedNamed` + `TagNameOnly`: `redis` -> `docker.io/library/redis:latest`.
 * A reference with both tag and digest keeps both (the digest wins for pulling).
 * @throws TscError TSC_IMAGE_REFERENCE with Docker's messages (`invalid reference format`,
 *   `invalid reference format: repository name (library/Redis) must be lowercase`, ...).
 */
export function parseReference(input: string): ImageReference {
  const ref = parseNormalizedNamed(input);
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/**
 * Parses and normalises without adding the default tag (`ParseNormalizedNamed`).
 * @throws TscError TSC_IMAGE_REFERENCE
 */
export function parseNormalizedNamed(input: string): ImageReference {
  if (IDENTIFIER_RE.test(input)) {
    throw invalid(
      input,
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  if (input === '') throw invalid(input, 'invalid reference format');
  const { domain, remainder } = splitDockerDomain(input);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(input, `invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const m = REFERENCE_RE.exec(`${domain}/${remainder}`);
  if (!m) throw invalid(input, 'invalid reference format');
  const name = m[1] ?? '';
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(
      input,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  const digest = m[3];
  if (digest !== undefined) checkDigest(input, digest);
  const slash = name.indexOf('/');
  const nameDomain = name.slice(0, slash);
  if (!ANCHORED_DOMAIN_RE.test(nameDomain)) throw invalid(input, 'invalid reference format');
  return {
    domain: nameDomain,
    path: name.slice(slash + 1),
    tag: m[2],
    digest,
  };
}

/** True when the string is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** `domain/path` (`docker.io/library/redis`). */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised form: `docker.io/library/redis:7@sha256:...` (parts that are present). */
export function renderReference(ref: ImageReference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/**
 * The short name users see (`reference:normalize.go#FamiliarName`): `docker.io/library/redis` ->
 * `redis`, `docker.io/bitnami/redis` -> `bitnami/redis`, other registries unchanged.
 */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** `FamiliarString`: the familiar name plus `:tag` and `@digest` when present (`redis:latest`). */
export function familiarString(ref: ImageReference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `name:tag` form for image records (`docker.io/library/redis:latest`); undefined without a tag. */
export function taggedName(ref: ImageReference): string | undefined {
  return ref.tag === undefined ? undefined : `${repositoryName(ref)}:${ref.tag}`;
}

/** `name@digest` form for `RepoDigests` (`redis@sha256:...` when familiar). */
export function canonicalName(ref: ImageReference, digest: string): string {
  return `${repositoryName(ref)}@${digest}`;
}
