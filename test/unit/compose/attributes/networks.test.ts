// networks: service list -> map; default network; top-level names.
import { project } from './helpers';

describe('networks', () => {
  test('list -> map; no default network when every service names its networks', () => {
    const p = project('services: {web: {image: x, networks: [front]}}\nnetworks: {front: {}}');
    expect(p.services.web?.networks).toEqual({ front: null });
    expect(p.networks).toEqual({ front: { name: 'proj_front' } });
  });
  test('default network for services without networks, none with network_mode', () => {
    const p = project('services: {web: {image: x}, host: {image: x, network_mode: host}}');
    expect(p.services.web?.networks).toEqual({ default: null });
    expect(p.services.host?.networks).toBeUndefined();
    expect(p.networks).toEqual({ default: { name: 'proj_default' } });
  });
  test('external networks keep their name; external.name is folded into name', () => {
    const p = project(
      'services: {}\nnetworks: {a: {external: true}, b: {external: {name: real}}, c: {name: custom}}',
    );
    expect(p.networks).toEqual({
      a: { external: true, name: 'a' },
      b: { external: true, name: 'real' },
      c: { name: 'custom' },
    });
  });
  test('name and external.name conflict', () => {
    expect(() => project('services: {}\nnetworks: {foo: {name: a, external: {name: b}}}')).toThrow(
      'networks.foo: name and external.name conflict; only use name',
    );
  });
});
