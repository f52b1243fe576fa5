// volumes: short syntax (~, relative, :ro,z, propagation, nocopy, Windows) -> long syntax.
import { web } from './helpers';

describe('volumes', () => {
  test('short syntax forms', () => {
    const s = web(`
services:
  web:
    image: x
    volumes:
      - ./data:/data:ro,z
      - ~/cache:/cache:rshared
      - /abs:/abs:Z
      - named:/var/lib:nocopy
      - /anonymous
      - named:/ro:ro
`);
    expect(s.volumes).toEqual([
      {
        type: 'bind',
        source: '/proj/data',
        target: '/data',
        read_only: true,
        bind: { selinux: 'z', create_host_path: true },
      },
      {
        type: 'bind',
        source: '/home/me/cache',
        target: '/cache',
        bind: { propagation: 'rshared', create_host_path: true },
      },
      {
        type: 'bind',
        source: '/abs',
        target: '/abs',
        bind: { selinux: 'Z', create_host_path: true },
      },
      { type: 'volume', source: 'named', target: '/var/lib', volume: { nocopy: true } },
      { type: 'volume', target: '/anonymous' },
      { type: 'volume', source: 'named', target: '/ro', read_only: true },
    ]);
  });
  test('long syntax: bind defaults, tmpfs size in bytes, target cleaned', () => {
    const s = web(`
services:
  web:
    image: x
    volumes:
      - {type: bind, source: ./src, target: /app/}
      - {type: tmpfs, target: /tmp, tmpfs: {size: 64m}}
`);
    expect(s.volumes).toEqual([
      { type: 'bind', source: '/proj/src', target: '/app', bind: { create_host_path: true } },
      { type: 'tmpfs', target: '/tmp', tmpfs: { size: 67108864 } },
    ]);
  });
  test('Windows paths keep their drive letter', () => {
    const s = web('services: {web: {image: x, volumes: ["c:\\\\data:/data"]}}');
    expect(s.volumes?.[0]?.target).toBe('/data');
  });
});
