import {
  EventBus,
  matchEvent,
  parseEventTime,
  parseFilters,
  EVENT_FILTER_KEYS,
  type EventMessage,
} from '../../../../engine/events';

function msg(
  bus: EventBus,
  Type: 'container' | 'volume',
  Action: string,
  ID: string,
  Attributes: Record<string, string> = {},
): EventMessage {
  return bus.publish({ Type, Action, ID, Attributes });
}

describe('engine/events message shape', () => {
  it("builds Docker's message with legacy fields for containers only", () => {
    const bus = new EventBus();
    const c = msg(bus, 'container', 'start', 'abc', { image: 'busybox', name: 'web' });
    expect(c).toMatchObject({
      status: 'start',
      id: 'abc',
      from: 'busybox',
      Type: 'container',
      Action: 'start',
      Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'web' } },
      scope: 'local',
    });
    expect(c.time).toBe(Math.floor(c.timeNano / 1e9));
    const v = msg(bus, 'volume', 'create', 'data', { driver: 'local' });
    expect(v.status).toBeUndefined();
    expect(v.id).toBeUndefined();
    expect(Object.keys(v)).toEqual(['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  });
});

describe('engine/events filters', () => {
  const bus = new EventBus();
  const start = msg(bus, 'container', 'start', 'a'.repeat(64), {
    name: 'web',
    image: 'nginx',
    'com.x': 'y',
  });
  const health = msg(bus, 'container', 'health_status: healthy', 'b'.repeat(64), {
    name: 'db',
    image: 'pg',
  });
  const vol = msg(bus, 'volume', 'create', 'data', { driver: 'local' });

  it('matches type, event (with the part before ":"), names, ids and id prefixes', () => {
    expect(matchEvent(start, { type: ['container'] })).toBe(true);
    expect(matchEvent(vol, { type: ['container'] })).toBe(false);
    expect(matchEvent(health, { event: ['health_status'] })).toBe(true);
    expect(matchEvent(health, { event: ['start'] })).toBe(false);
    expect(matchEvent(start, { container: ['web'] })).toBe(true);
    expect(matchEvent(start, { container: ['a'.repeat(12)] })).toBe(true);
    expect(matchEvent(vol, { container: ['data'] })).toBe(false);
    expect(matchEvent(vol, { volume: ['data'] })).toBe(true);
    expect(matchEvent(start, { image: ['nginx'] })).toBe(true);
  });

  it('ANDs keys, ORs values; labels by key or key=value', () => {
    expect(matchEvent(start, { type: ['container'], event: ['die', 'start'] })).toBe(true);
    expect(matchEvent(start, { type: ['container'], event: ['die'] })).toBe(false);
    expect(matchEvent(start, { label: ['com.x'] })).toBe(true);
    expect(matchEvent(start, { label: ['com.x=y'] })).toBe(true);
    expect(matchEvent(start, { label: ['com.x=z'] })).toBe(false);
    expect(matchEvent(health, { label: ['com.x'] })).toBe(false);
  });

  it('parses both filter encodings and refuses unknown keys and bad JSON', () => {
    expect(parseFilters('{"type":["container"],"event":["start","die"]}')).toEqual({
      type: ['container'],
      event: ['start', 'die'],
    });
    expect(parseFilters('{"type":{"container":true,"volume":false}}')).toEqual({
      type: ['container'],
    });
    expect(parseFilters(null)).toEqual({});
    expect(() => parseFilters('{"nope":["x"]}', EVENT_FILTER_KEYS)).toThrow(
      "invalid filter 'nope'",
    );
    expect(() => parseFilters('{x')).toThrow('invalid filter');
  });

  it('parses since/until as seconds[.nanos] or RFC 3339', () => {
    expect(parseEventTime('1700000000')).toBe(1_700_000_000_000_000_000n);
    expect(parseEventTime('1700000000.5')).toBe(1_700_000_000_500_000_000n);
    expect(parseEventTime('1700000000.000000001')).toBe(1_700_000_000_000_000_001n);
    expect(parseEventTime('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000_000n);
    expect(() => parseEventTime('yesterday')).toThrow('invalid time');
  });
});

describe('engine/events bus', () => {
  it('replays history in a time window and delivers future events to matching subscribers', () => {
    const bus = new EventBus();
    const first = msg(bus, 'volume', 'create', 'v1');
    const second = msg(bus, 'volume', 'destroy', 'v1');
    expect(second.timeNano).toBeGreaterThanOrEqual(first.timeNano);
    expect(bus.past({}, BigInt(first.timeNano))).toEqual([first, second]);
    expect(bus.past({ event: ['destroy'] }, 0n)).toEqual([second]);
    expect(bus.past({}, 0n, BigInt(first.timeNano) - 1n)).toEqual([]);

    const got: string[] = [];
    const sub = bus.subscribe({ type: ['container'] }, (m) => got.push(m.Action));
    expect(bus.listeners).toBe(1);
    msg(bus, 'volume', 'create', 'v2');
    msg(bus, 'container', 'die', 'c');
    sub.close();
    msg(bus, 'container', 'start', 'c');
    expect(got).toEqual(['die']);
    expect(bus.listeners).toBe(0);
  });

  it('keeps a bounded history', () => {
    const bus = new EventBus();
    for (let i = 0; i < 300; i++) msg(bus, 'volume', 'create', `v${i}`);
    const past = bus.past({}, 0n);
    expect(past).toHaveLength(256);
    expect(past[0]?.Actor.ID).toBe('v44');
  });
});
