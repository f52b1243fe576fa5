// extra_hosts, ulimits, devices, secrets/configs, command strings, tmpfs.
import { web } from './helpers';

describe('other attributes', () => {
  test('extra_hosts: list and map -> sorted host=ip', () => {
    expect(
      web(
        'services: {web: {image: x, extra_hosts: ["zulu:127.0.0.2", "alpha=50.31.209.229", "v6:ff02::1"]}}',
      ).extra_hosts,
    ).toEqual(['alpha=50.31.209.229', 'v6=ff02::1', 'zulu=127.0.0.2']);
    expect(
      web('services: {web: {image: x, extra_hosts: {h: [1.1.1.1, 2.2.2.2]}}}').extra_hosts,
    ).toEqual(['h=1.1.1.1', 'h=2.2.2.2']);
  });
  test('ulimits single and soft/hard', () => {
    expect(
      web(
        'services: {web: {image: x, ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}}}',
      ).ulimits,
    ).toEqual({
      nproc: 65535,
      nofile: { soft: 20000, hard: 40000 },
    });
  });
  test('devices', () => {
    expect(
      web('services: {web: {image: x, devices: ["/dev/a", "/dev/b:/dev/c", "/dev/d:/dev/e:r"]}}')
        .devices,
    ).toEqual([
      { source: '/dev/a', target: '/dev/a', permissions: 'rwm' },
      { source: '/dev/b', target: '/dev/c', permissions: 'rwm' },
      { source: '/dev/d', target: '/dev/e', permissions: 'r' },
    ]);
  });
  test('secrets and configs', () => {
    const s = web(`
services:
  web:
    image: x
    secrets: [s1, {source: s2, target: my_secret, uid: "103", mode: 0o440}]
    configs: [c1]
secrets: {s1: {file: ./s1.txt}, s2: {external: true}}
configs: {c1: {file: c1.txt}}
`);
    expect(s.secrets).toEqual([
      { source: 's1', target: '/run/secrets/s1' },
      { source: 's2', target: 'my_secret', uid: '103', mode: 0o440 },
    ]);
    expect(s.configs).toEqual([{ source: 'c1', target: '/c1' }]);
  });
  test('command and entrypoint strings are split like a shell', () => {
    const s = web(
      `services: {web: {image: x, command: bundle exec thin -p 3000, entrypoint: "sh -c 'echo a b'"}}`,
    );
    expect(s.command).toEqual(['bundle', 'exec', 'thin', '-p', '3000']);
    expect(s.entrypoint).toEqual(['sh', '-c', 'echo a b']);
  });
  test('tmpfs string or list', () => {
    expect(web('services: {web: {image: x, tmpfs: /run}}').tmpfs).toEqual(['/run']);
  });
});
