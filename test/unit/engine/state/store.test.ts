import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { KeyedLock } from '../../../../engine/state/lock';
import { NameRegistry } from '../../../../engine/state/names';
import { StateStore, TEMP_MARKER, writeFileAtomic } from '../../../../engine/state/store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('engine/state writeFileAtomic', () => {
  it('replaces the content whole and leaves no temp file', async () => {
    const p = join(dir, 'r.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, 'two');
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('keeps the old content when the write fails, and removes its temp file', async () => {
    const p = join(dir, 'r.json');
    await writeFileAtomic(p, 'old');
    mkdirSync(join(dir, 'blocker'));
    // rename onto a non-empty directory fails: the target stays as it was
    writeFileSync(join(dir, 'blocker', 'f'), '');
    await expect(writeFileAtomic(join(dir, 'blocker'), 'new')).rejects.toThrow();
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.includes(TEMP_MARKER))).toEqual([]);
  });
});

describe('engine/state records', () => {
  it('round-trips records per key and lists them in key order', async () => {
    const store = new StateStore(join(dir, 'root'));
    await store.init();
    const c = store.collection<{ n: number }>('things');
    await c.put('b', { n: 2 });
    await c.put('a', { n: 1 });
    expect(await c.get('a')).toEqual({ n: 1 });
    expect(await c.get('zz')).toBeUndefined();
    expect(await c.list()).toEqual([
      { key: 'a', value: { n: 1 } },
      { key: 'b', value: { n: 2 } },
    ]);
    await c.remove('a');
    expect(await c.keys()).toEqual(['b']);
  });

  it('ignores and cleans leftovers of a crash mid-write', async () => {
    const store = new StateStore(dir);
    const c = store.collection<{ n: number }>('things');
    await c.put('good', { n: 1 });
    // a crash after writing the temp file but before rename: old record intact + half temp file
    writeFileSync(join(dir, 'things', 'good', `record.json${TEMP_MARKER}abc`), '{"n":');
    // a crash during the very first write of a new record: only a temp file
    mkdirSync(join(dir, 'things', 'half'));
    writeFileSync(join(dir, 'things', 'half', `record.json${TEMP_MARKER}def`), '{"n":');
    expect(await c.keys()).toEqual(['good']);
    expect(await c.get('good')).toEqual({ n: 1 });
    expect(readdirSync(join(dir, 'things', 'good'))).toEqual(['record.json']);
    expect(readdirSync(join(dir, 'things', 'half'))).toEqual([]);
  });

  it('refuses keys that are not one safe path component', async () => {
    const c = new StateStore(dir).collection('things');
    for (const bad of ['../x', 'a/b', '', '.hidden', `x${TEMP_MARKER}1`]) {
      await expect(c.put(bad, {})).rejects.toThrow('invalid record key');
    }
  });

  it('reports a corrupt record (never produced by atomic writes) as a state error', async () => {
    const c = new StateStore(dir).collection('things');
    mkdirSync(join(dir, 'things', 'bad'), { recursive: true });
    writeFileSync(join(dir, 'things', 'bad', 'record.json'), '{');
    await expect(c.get('bad')).rejects.toMatchObject({ code: 'TSC_ENGINE_STATE' });
  });
});

describe('engine/state KeyedLock', () => {
  it('serialises calls on one key and runs other keys concurrently', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let releaseA!: () => void;
    const gate = new Promise<void>((r) => (releaseA = r));
    const a1 = lock.run('a', async () => {
      log.push('a1 start');
      await gate;
      log.push('a1 end');
    });
    const a2 = lock.run('a', () => {
      log.push('a2');
    });
    const b = lock.run('b', () => {
      log.push('b');
    });
    await b;
    expect(log).toEqual(['a1 start', 'b']);
    releaseA();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
    expect(lock.isBusy('a')).toBe(false);
  });

  it('releases the lock when the holder throws', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('k', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(lock.run('k', () => 1)).resolves.toBe(1);
  });
});

describe('engine/state NameRegistry', () => {
  it('gives a name to exactly one of many concurrent creates', async () => {
    const names = new NameRegistry('container');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        names.withReservation('web', `id${i}`, async () => {
          await new Promise((r) => setTimeout(r, 1));
          return i;
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect((failed as PromiseRejectedResult).reason).toMatchObject({ code: 'TSC_ENGINE_CONFLICT' });
    expect(((failed as PromiseRejectedResult).reason as Error).message).toMatch(
      /^the container name "web" is already in use by container "id\d+"/,
    );
  });

  it('releases the name when the commit fails', async () => {
    const names = new NameRegistry('volume');
    await expect(
      names.withReservation('v', 'a', () => Promise.reject(new Error('disk full'))),
    ).rejects.toThrow('disk full');
    expect(names.get('v')).toBeUndefined();
    names.reserve('v', 'b');
    names.reserve('v', 'b');
    names.release('v', 'other');
    expect(names.get('v')).toBe('b');
  });
});
