// --parallel / COMPOSE_PARALLEL_LIMIT -> executor concurrency (cli/options.ts parallelLimit).
import { UsageError } from '../../../base/errors';
import { buildProgram } from '../../../cli/main';
import { parallelLimit, type GlobalOptions } from '../../../cli/options';

describe('parallelLimit', () => {
  it('must be unset without flag or variable, and unlimited for -1 like docker compose', () => {
    expect(parallelLimit({}, {})).toBeUndefined();
    expect(parallelLimit({ parallel: '-1' }, {})).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('must take --parallel over COMPOSE_PARALLEL_LIMIT', () => {
    expect(parallelLimit({ parallel: '3' }, { COMPOSE_PARALLEL_LIMIT: '7' })).toBe(3);
    expect(parallelLimit({}, { COMPOSE_PARALLEL_LIMIT: '7' })).toBe(7);
  });

  it('must refuse 0 and non-integers as usage errors', () => {
    expect(() => parallelLimit({ parallel: '0' }, {})).toThrow(UsageError);
    expect(() => parallelLimit({ parallel: 'many' }, {})).toThrow(
      'invalid argument "many" for "--parallel" flag: must be a non-zero integer',
    );
  });

  it('must be parsed as a global flag', () => {
    const p = buildProgram();
    p.parse(['--parallel', '2', 'version', '--short'], { from: 'user' });
    expect(p.opts<GlobalOptions>().parallel).toBe('2');
  });
});
