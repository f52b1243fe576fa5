// healthcheck: test string -> CMD-SHELL; Go durations.
import { web } from './helpers';

describe('healthcheck', () => {
  test('string test and durations (compose-go TestHealthcheck)', () => {
    const s = web(`
services:
  web:
    image: x
    healthcheck:
      test: echo "hello world"
      interval: 10s
      timeout: 1s
      retries: 5
      start_period: 15s
      start_interval: 5s
`);
    expect(s.healthcheck).toEqual({
      test: ['CMD-SHELL', 'echo "hello world"'],
      interval: '10s',
      timeout: '1s',
      retries: 5,
      start_period: '15s',
      start_interval: '5s',
    });
  });
  test('durations are re-rendered in Go form', () => {
    const s = web(
      'services: {web: {image: x, healthcheck: {test: [CMD, true], interval: 90s, timeout: 1h}, stop_grace_period: 1m}}',
    );
    expect(s.healthcheck?.interval).toBe('1m30s');
    expect(s.healthcheck?.timeout).toBe('1h0m0s');
    expect(s.stop_grace_period).toBe('1m0s');
  });
  test('invalid duration', () => {
    expect(() => web('services: {web: {image: x, healthcheck: {interval: soon}}}')).toThrow(
      "invalid duration: 'soon'",
    );
  });
});
