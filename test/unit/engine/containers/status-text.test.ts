/**
 * The container Status text of `GET /containers/json` (engine/containers/views.ts statusText):
 * moby's State.String() wording and go-units HumanDuration, as `docker ps` shows them.
 */
import type { ContainerRecord } from '../../../../engine/containers/config';
import { statusText } from '../../../../engine/containers/views';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const before = (ms: number): string => new Date(NOW - ms).toISOString();

/** A record with only the State fields statusText reads. */
function rec(state: Partial<ContainerRecord['State']>): ContainerRecord {
  return {
    State: {
      Status: 'running',
      Running: false,
      Paused: false,
      Restarting: false,
      ExitCode: 0,
      StartedAt: before(0),
      FinishedAt: before(0),
      ...state,
    },
  } as unknown as ContainerRecord;
}

test('running: singular second, About a minute, About an hour, hours', () => {
  const up = (ms: number): string => statusText(rec({ Running: true, StartedAt: before(ms) }), NOW);
  expect(up(300)).toBe('Up Less than a second');
  expect(up(1_000)).toBe('Up 1 second');
  expect(up(10_000)).toBe('Up 10 seconds');
  expect(up(90_000)).toBe('Up About a minute');
  expect(up(5 * 60_000)).toBe('Up 5 minutes');
  expect(up(3_600_000)).toBe('Up About an hour');
  expect(up(5 * 3_600_000)).toBe('Up 5 hours');
  expect(up(3 * 86_400_000)).toBe('Up 3 days');
});

test('health is shown unless paused (paused wins, as moby)', () => {
  const health = { Status: 'healthy', FailingStreak: 0, Log: [] };
  const base = { Running: true, StartedAt: before(10_000), Health: health };
  expect(statusText(rec(base as never), NOW)).toBe('Up 10 seconds (healthy)');
  expect(statusText(rec({ ...base, Paused: true } as never), NOW)).toBe('Up 10 seconds (Paused)');
  const starting = { ...base, Health: { ...health, Status: 'starting' } };
  expect(statusText(rec(starting as never), NOW)).toBe('Up 10 seconds (health: starting)');
});

test('exited and restarting say how long ago', () => {
  expect(statusText(rec({ Status: 'exited', ExitCode: 137, FinishedAt: before(1_000) }), NOW)).toBe(
    'Exited (137) 1 second ago',
  );
  expect(statusText(rec({ Status: 'exited', ExitCode: 0, FinishedAt: before(60_000) }), NOW)).toBe(
    'Exited (0) About a minute ago',
  );
  expect(statusText(rec({ Restarting: true, ExitCode: 1, FinishedAt: before(2_000) }), NOW)).toBe(
    'Restarting (1) 2 seconds ago',
  );
  expect(statusText(rec({ Status: 'created' }), NOW)).toBe('Created');
});
