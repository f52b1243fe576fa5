// depends_on: list -> map with defaults; implicit dependencies from links/volumes_from/service:x.
import { web } from './helpers';

describe('depends_on', () => {
  test('short syntax', () => {
    const s = web('services: {web: {image: x, depends_on: [db]}, db: {image: x}}');
    expect(s.depends_on).toEqual({ db: { condition: 'service_started', required: true } });
  });
  test('long syntax keeps condition/restart, required defaults to true', () => {
    const s = web(
      'services: {web: {image: x, depends_on: {db: {condition: service_healthy, restart: true}}}, db: {image: x}}',
    );
    expect(s.depends_on).toEqual({
      db: { condition: 'service_healthy', restart: true, required: true },
    });
  });
  test('implicit dependencies (compose-go Normalize)', () => {
    const s = web(`
services:
  web:
    image: x
    links: ["cache:c"]
    network_mode: service:net
    volumes_from: [data, "container:other"]
  cache: {image: x}
  net: {image: x}
  data: {image: x}
`);
    expect(s.depends_on).toEqual({
      cache: { condition: 'service_started', restart: true, required: true },
      net: { condition: 'service_started', restart: true, required: true },
      data: { condition: 'service_started', restart: false, required: true },
    });
  });
});
