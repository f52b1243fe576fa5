import {
  compressionOf,
  defaultPlatform,
  normalizeArch,
  parsePlatform,
  selectManifest,
  type Index,
} from '../../../../engine/images/oci.js';

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

describe('platforms', () => {
  it('normalises architectures like containerd', () => {
    expect(normalizeArch('x86_64')).toEqual({ architecture: 'amd64', variant: '' });
    expect(normalizeArch('aarch64', 'v8')).toEqual({ architecture: 'arm64', variant: '' });
    expect(normalizeArch('armhf')).toEqual({ architecture: 'arm', variant: 'v7' });
    expect(normalizeArch('arm')).toEqual({ architecture: 'arm', variant: 'v7' });
    expect(normalizeArch('i386')).toEqual({ architecture: '386', variant: '' });
  });

  it('parses platform specifiers', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm/v6')).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v6',
    });
    expect(() => parsePlatform('linux//x')).toThrow(/invalid/);
  });

  it('takes DOCKER_DEFAULT_PLATFORM unless a platform is given', () => {
    expect(
      defaultPlatform(undefined, { DOCKER_DEFAULT_PLATFORM: 'linux/arm64' }).architecture,
    ).toBe('arm64');
    expect(
      defaultPlatform('linux/386', { DOCKER_DEFAULT_PLATFORM: 'linux/arm64' }).architecture,
    ).toBe('386');
  });

  const index: Index = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'm', digest: D(1), size: 1, platform: { os: 'linux', architecture: '386' } },
      {
        mediaType: 'm',
        digest: D(2),
        size: 1,
        platform: { os: 'linux', architecture: 'arm', variant: 'v6' },
      },
      {
        mediaType: 'm',
        digest: D(3),
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      },
      { mediaType: 'm', digest: D(4), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: 'm',
        digest: D(5),
        size: 1,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
  };

  it('prefers the exact architecture and falls back along the vector', () => {
    expect(selectManifest(index, { os: 'linux', architecture: 'amd64' })?.digest).toBe(D(4));
    expect(selectManifest(index, { os: 'linux', architecture: 'arm64' })?.digest).toBe(D(5));
    expect(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe(
      D(2),
    );
    const only386: Index = { schemaVersion: 2, manifests: [index.manifests[0]!] };
    expect(selectManifest(only386, { os: 'linux', architecture: 'amd64' })?.digest).toBe(D(1));
    expect(selectManifest(index, { os: 'windows', architecture: 'amd64' })).toBeUndefined();
  });

  it('skips attestation manifests', () => {
    const att: Index = {
      schemaVersion: 2,
      manifests: [{ ...index.manifests[2]!, platform: { os: 'linux', architecture: 'amd64' } }],
    };
    expect(selectManifest(att, { os: 'linux', architecture: 'amd64' })).toBeUndefined();
  });

  it('detects compression by media type', () => {
    expect(compressionOf('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(compressionOf('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(compressionOf('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(compressionOf('application/vnd.oci.image.layer.v1.tar')).toBe('none');
  });
});
