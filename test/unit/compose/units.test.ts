import {
  formatDuration,
  normalizeDuration,
  parseBytes,
  parseDuration,
} from '../../../compose/units';

describe('parseBytes', () => {
  test.each([
    ['512m', 536870912],
    ['1g', 1073741824],
    ['1GB', 1073741824],
    ['100', 100],
    ['1.5k', 1536],
    ['64b', 64],
  ])('%s', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });
  test('rejects junk', () => {
    expect(parseBytes('12 parsecs')).toBeUndefined();
  });
});

describe('Go durations', () => {
  test.each([
    ['90s', '1m30s'],
    ['1m', '1m0s'],
    ['1h', '1h0m0s'],
    ['10s', '10s'],
    ['500ms', '500ms'],
    ['1.5s', '1.5s'],
    ['0', '0s'],
    ['2h45m', '2h45m0s'],
    ['1us', '1µs'],
  ])('%s -> %s', (text, go) => {
    expect(normalizeDuration(text)).toBe(go);
  });
  test('invalid', () => {
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('1x')).toBeUndefined();
  });
  test('format', () => {
    expect(formatDuration(1_500_000)).toBe('1.5ms');
  });
});
