/**
 * RecordCollection.discard / sweepTrash / settled: a discarded resource leaves the collection in
 * one rename (keys no longer list it) and its files are deleted in the background; trash a crash
 * left behind is swept.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BackgroundDeletions, StateStore } from '../../../../engine/state/store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-discard-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('engine/state RecordCollection.discard', () => {
  it('takes the record out at once and deletes its directory in the background', async () => {
    const c = new StateStore(dir).collection<{ n: number }>('things');
    await c.put('a', { n: 1 });
    await c.put('b', { n: 2 });
    writeFileSync(join(c.pathOf('a'), 'beside.log'), 'x');
    await c.discard('a');
    expect(await c.keys()).toEqual(['b']);
    expect(await c.get('a')).toBeUndefined();
    await c.settled();
    expect(readdirSync(join(dir, 'things'))).toEqual(['b']);
  });

  it('is fine with a missing key', async () => {
    const c = new StateStore(dir).collection<{ n: number }>('things');
    await expect(c.discard('nothing')).resolves.toBeUndefined();
  });

  it('sweeps trash an earlier run left, and never lists it as a key', async () => {
    const c = new StateStore(dir).collection<{ n: number }>('things');
    await c.put('b', { n: 2 });
    const left = join(dir, 'things', '.trash-a-0123abcd');
    mkdirSync(left, { recursive: true });
    writeFileSync(join(left, 'record.json'), '{"n":1}');
    expect(await c.keys()).toEqual(['b']);
    await c.sweepTrash();
    await c.settled();
    expect(existsSync(left)).toBe(false);
    expect(await c.keys()).toEqual(['b']);
  });
});

describe('engine/state BackgroundDeletions', () => {
  const tree = (name: string): string => {
    const d = join(dir, name);
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'sub', 'f'), 'x');
    return d;
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('must wait until no deletion was asked for quietMs, then delete every queued tree', async () => {
    const d = new BackgroundDeletions(150);
    const a = tree('a');
    const b = tree('b');
    d.start(a);
    await sleep(100);
    d.start(b);
    await sleep(100);
    // 200 ms after the first, but only 100 ms after the last: nothing deleted yet
    expect([existsSync(a), existsSync(b)]).toEqual([true, true]);
    await sleep(300);
    expect([existsSync(a), existsSync(b)]).toEqual([false, false]);
  });

  it('must delete at once what is queued when settled() is awaited', async () => {
    const d = new BackgroundDeletions(60_000);
    const a = tree('a');
    const b = tree('b');
    d.start(a);
    d.start(b);
    await d.settled();
    expect([existsSync(a), existsSync(b)]).toEqual([false, false]);
  });

  it('must end a wait when settled() is awaited (nothing else need keep the process alive)', async () => {
    const d = new BackgroundDeletions(60_000, 60_000);
    const a = tree('a');
    d.start(a);
    await sleep(20);
    const t0 = Date.now();
    await d.settled();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(existsSync(a)).toBe(false);
  });

  it('must not wait longer than maxDelayMs under a steady stream of removals', async () => {
    const d = new BackgroundDeletions(150, 300);
    const a = tree('a');
    d.start(a);
    // a new removal every 50 ms never leaves 150 ms of quiet
    for (let i = 0; i < 12; i++) {
      await sleep(50);
      d.start(join(dir, `gone-${i}`));
    }
    expect(existsSync(a)).toBe(false);
    await d.settled();
  });

  it('must pick up a tree queued while it deletes, and ignore one already gone', async () => {
    const d = new BackgroundDeletions(20);
    const a = tree('a');
    d.start(join(dir, 'never-made'));
    d.start(a);
    await sleep(60);
    const b = tree('b');
    d.start(b);
    await d.settled();
    expect([existsSync(a), existsSync(b)]).toEqual([false, false]);
  });
});
