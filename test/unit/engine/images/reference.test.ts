import {
  familiarName,
  familiarString,
  parseReference,
  parseNormalizedNamed,
  renderReference,
} from '../../../../engine/images/reference.js';
import { TscError } from '../../../../base/errors.js';

const HEX = 'a'.repeat(64);

function norm(s: string): string {
  return renderReference(parseReference(s));
}

function errorOf(s: string): TscError {
  try {
    parseReference(s);
  } catch (e) {
    if (e instanceof TscError) return e;
    throw e;
  }
  throw new Error(`expected ${s} to be rejected`);
}

describe('parseReference', () => {
  it.each([
    ['redis', 'docker.io/library/redis:latest'],
    ['redis:7', 'docker.io/library/redis:7'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['docker.io/redis', 'docker.io/library/redis:latest'],
    ['index.docker.io/redis', 'docker.io/library/redis:latest'],
    ['index.docker.io/library/redis:6', 'docker.io/library/redis:6'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000/a/b/c:v1.2-rc_3', 'localhost:5000/a/b/c:v1.2-rc_3'],
    ['127.0.0.1:5000/busybox:1.36', '127.0.0.1:5000/busybox:1.36'],
    ['ghcr.io/o/r', 'ghcr.io/o/r:latest'],
    ['[::1]:5000/x', '[::1]:5000/x:latest'],
    ['a.b-c/e__d--f.g', 'a.b-c/e__d--f.g:latest'],
    [`ghcr.io/o/r@sha256:${HEX}`, `ghcr.io/o/r@sha256:${HEX}`],
    [`redis:7@sha256:${HEX}`, `docker.io/library/redis:7@sha256:${HEX}`],
    ['foo/bar/baz', 'docker.io/foo/bar/baz:latest'],
  ])('normalises %s to %s', (input, want) => {
    expect(norm(input)).toBe(want);
  });

  it('splits domain, path, tag and digest', () => {
    expect(parseReference(`localhost:5000/x/y:t@sha256:${HEX}`)).toEqual({
      domain: 'localhost:5000',
      path: 'x/y',
      tag: 't',
      digest: `sha256:${HEX}`,
    });
  });

  it('adds no tag to a digest-only reference', () => {
    const ref = parseReference(`redis@sha256:${HEX}`);
    expect(ref.tag).toBeUndefined();
    expect(ref.digest).toBe(`sha256:${HEX}`);
  });

  it('parseNormalizedNamed leaves the tag absent', () => {
    expect(parseNormalizedNamed('redis').tag).toBeUndefined();
  });

  it('rejects upper case in the repository with Docker message', () => {
    const e = errorOf('Redis');
    expect(e.code).toBe('TSC_IMAGE_REFERENCE');
    expect(e.message).toBe(
      'invalid reference format: repository name (library/Redis) must be lowercase',
    );
    expect(errorOf('docker.io/Foo/bar:Tag').message).toBe(
      'invalid reference format: repository name (Foo/bar) must be lowercase',
    );
  });

  it('treats an upper-case first component as a domain', () => {
    expect(norm('Example.com/app')).toBe('Example.com/app:latest');
    expect(norm('HOST/app')).toBe('HOST/app:latest');
  });

  it('allows upper case in tags', () => {
    expect(norm('redis:Alpine_3')).toBe('docker.io/library/redis:Alpine_3');
  });

  it('rejects a 64-hex name as an image ID', () => {
    expect(errorOf(HEX).message).toBe(
      `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`,
    );
  });

  it.each([
    '',
    ':tag',
    'redis:',
    'redis:-bad',
    'a//b',
    '/redis',
    'redis/',
    'red is',
    'redis@sha256:abc',
    `redis:${'t'.repeat(129)}`,
    'a_-b',
    'localhost:port/x',
  ])('rejects %j as an invalid reference format', (input) => {
    const e = errorOf(input);
    expect(e.code).toBe('TSC_IMAGE_REFERENCE');
    expect(e.message).toMatch(/invalid|digest/);
  });

  it('rejects unknown digest algorithms and bad lengths', () => {
    expect(errorOf(`redis@md5:${HEX}`).message).toBe('unsupported digest algorithm');
    expect(errorOf(`redis@sha256:${'a'.repeat(40)}`).message).toBe(
      'invalid checksum digest length',
    );
  });

  it('rejects names longer than 255 characters', () => {
    const long = `x/${'a'.repeat(260)}`;
    expect(errorOf(long).message).toBe('repository name must not be more than 255 characters');
  });
});

describe('familiarName', () => {
  it.each([
    ['redis', 'redis', 'redis:latest'],
    ['bitnami/redis:7', 'bitnami/redis', 'bitnami/redis:7'],
    ['docker.io/library/a/b', 'library/a/b', 'library/a/b:latest'],
    ['localhost:5000/app:1', 'localhost:5000/app', 'localhost:5000/app:1'],
    [`redis@sha256:${HEX}`, 'redis', `redis@sha256:${HEX}`],
  ])('shows %s as %s', (input, name, full) => {
    const ref = parseReference(input);
    expect(familiarName(ref)).toBe(name);
    expect(familiarString(ref)).toBe(full);
  });
});
