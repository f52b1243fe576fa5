import { PassThrough } from 'node:stream';

import {
  FrameDecoder,
  STDERR,
  STDOUT,
  encodeFrame,
  writeJsonLine,
} from '../../../../engine/api/stream';

describe('engine/api multiplexed stream framing', () => {
  it('writes the 8-byte header: stream id, three zero bytes, big-endian size', () => {
    const f = encodeFrame(STDERR, 'hi\n');
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 3]);
    expect(f.subarray(8).toString()).toBe('hi\n');
  });

  it('decodes frames split at any byte boundary', () => {
    const all = Buffer.concat([
      encodeFrame(STDOUT, 'out'),
      encodeFrame(STDERR, ''),
      encodeFrame(STDOUT, 'x'.repeat(300)),
    ]);
    for (const cut of [1, 5, 8, 11, 17, all.length - 1]) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
        [1, 'out'],
        [2, ''],
        [1, 'x'.repeat(300)],
      ]);
      expect(d.pending).toBe(0);
    }
  });

  it('refuses an unknown stream id', () => {
    expect(() => new FrameDecoder().push(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]))).toThrow(
      'unknown stream id 7',
    );
  });

  it('writes newline-delimited JSON', async () => {
    const out = new PassThrough();
    await writeJsonLine(out, { a: 1 });
    await writeJsonLine(out, 'x');
    out.end();
    expect((out.read() as Buffer).toString()).toBe('{"a":1}\n"x"\n');
  });
});
