/**
 * The engine's event bus: every state change (container start/die, volume create, ...) becomes one
 * message in the Docker Engine API's event shape (`GET /events`, API reference "System Events"),
 * kept in a bounded history for `since` and fanned out to subscribers through filters. No I/O.
 */
import { EngineError } from '../base/errors.js';

/** Event object types as Docker names them. */
export type EventType =
  | 'container'
  | 'image'
  | 'volume'
  | 'network'
  | 'daemon'
  | 'plugin'
  | 'node'
  | 'service'
  | 'secret'
  | 'config';

/** One event message, exactly Docker's JSON (`events.Message`). */
export interface EventMessage {
  /** Legacy: the action (set for container and image events). */
  status?: string;
  /** Legacy: the actor id (container and image events). */
  id?: string;
  /** Legacy: the image of a container event. */
  from?: string;
  Type: EventType;
  /** `create`, `start`, `die`, `health_status: healthy`, `mount`, ... */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  /** Always `local` here. */
  scope: 'local';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds. */
  timeNano: number;
}

/** What a publisher gives; the bus adds the scope, times and legacy fields. */
export interface EventInput {
  readonly Type: EventType;
  readonly Action: string;
  readonly ID: string;
  readonly Attributes?: Readonly<Record<string, string>>;
}

/** Parsed `filters` (Docker's `map[string][]string`); keys AND, values of one key OR. */
export type EventFilters = Readonly<Record<string, readonly string[]>>;

/** Filter keys `GET /events` accepts (API reference "System Events"). */
export const EVENT_FILTER_KEYS = [
  'config',
  'container',
  'daemon',
  'event',
  'image',
  'label',
  'network',
  'node',
  'plugin',
  'scope',
  'secret',
  'service',
  'type',
  'volume',
] as const;

/** How many events `since` can reach back (moby `daemon/events/events.go` eventsLimit). */
export const EVENT_HISTORY = 256;

/** Splits `key=value` (value may be absent). */
function splitKV(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/**
 * True when `msg` passes `filters` (moby `daemon/events/filter.go`): `type`, `event` (the action, or
 * its part before `:` as in `health_status`), `container`/`image`/`volume`/`network`/... (the actor
 * id or its `name` attribute, for that type), `label` (`key` or `key=value` among the attributes),
 * `scope`, `daemon`.
 */
export function matchEvent(msg: EventMessage, filters: EventFilters): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const attrs = msg.Actor.Attributes;
    let ok: boolean;
    switch (key) {
      case 'type':
        ok = values.includes(msg.Type);
        break;
      case 'event': {
        const short = msg.Action.split(':')[0] ?? msg.Action;
        ok = values.includes(msg.Action) || values.includes(short);
        break;
      }
      case 'label':
        ok = values.every((v) => {
          const [k, want] = splitKV(v);
          return k in attrs && (want === undefined || attrs[k] === want);
        });
        break;
      case 'scope':
        ok = values.includes(msg.scope);
        break;
      case 'image':
        ok =
          (msg.Type === 'image' &&
            (values.includes(msg.Actor.ID) || values.includes(attrs.name ?? ''))) ||
          (msg.Type === 'container' && values.includes(attrs.image ?? ''));
        break;
      default: {
        const name = attrs.name ?? '';
        ok =
          msg.Type === key &&
          values.some(
            (v) =>
              v === msg.Actor.ID || v === name || (v.length >= 12 && msg.Actor.ID.startsWith(v)),
          );
      }
    }
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses Docker's `filters` query value: `{"type":["container"]}` or the older
 * `{"type":{"container":true}}`. Throws TSC_ENGINE_INVALID on bad JSON or an unknown key when
 * `allowed` is given.
 */
export function parseFilters(
  raw: string | null | undefined,
  allowed?: readonly string[],
): Record<string, string[]> {
  if (raw === null || raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'filters', name: raw },
      `invalid filter: ${raw}`,
      { cause: err },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'filters', name: raw },
      `invalid filter: ${raw}`,
    );
  }
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (allowed && !allowed.includes(key)) {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'filters', name: key },
        `invalid filter '${key}'`,
      );
    }
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (typeof value === 'object' && value !== null) {
      out[key] = Object.entries(value as Record<string, unknown>)
        .filter(([, on]) => on === true)
        .map(([v]) => v);
    } else {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'filters', name: key },
        `invalid filter '${key}'`,
      );
    }
  }
  return out;
}

/**
 * Parses an events `since`/`until` value into unix nanoseconds: `<seconds>[.<nanos>]` (what the
 * docker CLI sends), or an RFC 3339 date. Throws TSC_ENGINE_INVALID otherwise.
 */
export function parseEventTime(raw: string): bigint {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(raw);
  if (m) return BigInt(m[1] ?? '0') * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const ms = Date.parse(raw);
  if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n;
  throw new EngineError(
    'TSC_ENGINE_INVALID',
    { kind: 'time', name: raw },
    `invalid time ${JSON.stringify(raw)}`,
  );
}

/** A live subscription; call `close()` to stop receiving. */
export interface EventSubscription {
  close(): void;
}

/** Now, in unix nanoseconds (ms precision plus a monotonic sub-ms part, strictly increasing). */
let lastNano = 0n;
function nowNano(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNano = wall > lastNano ? wall : lastNano + 1n;
  return lastNano;
}

/** The bus. One per daemon. */
export class EventBus {
  private readonly history: EventMessage[] = [];
  private readonly subscribers = new Set<{
    filters: EventFilters;
    fn: (m: EventMessage) => void;
  }>();

  /** Builds the message, keeps it in the history and delivers it to every matching subscriber. */
  publish(input: EventInput): EventMessage {
    const nano = nowNano();
    const msg: EventMessage = {
      Type: input.Type,
      Action: input.Action,
      Actor: { ID: input.ID, Attributes: { ...(input.Attributes ?? {}) } },
      scope: 'local',
      time: Number(nano / 1_000_000_000n),
      timeNano: Number(nano),
    };
    if (input.Type === 'container' || input.Type === 'image') {
      msg.status = input.Action;
      msg.id = input.ID;
      if (input.Type === 'container' && input.Attributes?.image !== undefined)
        msg.from = input.Attributes.image;
    }
    this.history.push(msg);
    if (this.history.length > EVENT_HISTORY) this.history.shift();
    for (const s of [...this.subscribers]) if (matchEvent(msg, s.filters)) s.fn(msg);
    return msg;
  }

  /**
   * Past events with `sinceNano <= timeNano <= untilNano` (bounds in unix ns, optional) that pass
   * `filters`, oldest first.
   */
  past(filters: EventFilters, sinceNano?: bigint, untilNano?: bigint): EventMessage[] {
    return this.history.filter((m) => {
      const t = BigInt(m.timeNano);
      if (sinceNano !== undefined && t < sinceNano) return false;
      if (untilNano !== undefined && t > untilNano) return false;
      return matchEvent(m, filters);
    });
  }

  /** Calls `fn` for every future event passing `filters`, until `close()`. */
  subscribe(filters: EventFilters, fn: (m: EventMessage) => void): EventSubscription {
    const entry = { filters, fn };
    this.subscribers.add(entry);
    return { close: () => this.subscribers.delete(entry) };
  }

  /** Number of live subscriptions (for tests and `/info`'s NEventsListener). */
  get listeners(): number {
    return this.subscribers.size;
  }
}
