// compose/schema/core.ts deferred(): built on first parse, same issues as the schema it defers,
// closed shapes (the hints' vocabulary) kept in definition order. Run in its own module registry
// so the spec's deferred schemas start unbuilt.
import { z } from 'zod';

import type * as CoreModule from '../../../compose/schema/core';
import type * as IndexModule from '../../../compose/schema/index';

type Core = typeof CoreModule;
type Index = typeof IndexModule;

function fresh(): { core: Core; index: Index } {
  let core: Core | undefined;
  let index: Index | undefined;
  jest.isolateModules(() => {
    core = jest.requireActual<Core>('../../../compose/schema/core');
    index = jest.requireActual<Index>('../../../compose/schema/index');
  });
  return { core: core!, index: index! };
}

describe('deferred', () => {
  it('must not build the schema until something is parsed, and then only once', () => {
    const { core } = fresh();
    let builds = 0;
    const s = core.deferred(() => {
      builds += 1;
      return core.strict({ a: core.types(['string']) });
    });
    expect(builds).toBe(0);
    expect(s.optional().safeParse(undefined).success).toBe(true);
    expect(builds).toBe(0);
    expect(s.safeParse({ a: 'x' }).success).toBe(true);
    expect(s.safeParse({ a: 'y' }).success).toBe(true);
    expect(builds).toBe(1);
  });

  it("must report the deferred schema's issues at the same paths", () => {
    const { core } = fresh();
    const make = (): z.ZodType =>
      core.strict({ a: core.types(['string']), b: core.optTypes(['integer']) });
    const direct = z.object({ x: make() }).safeParse({ x: { a: 1, b: 'no', c: true } });
    const viaDeferred = z
      .object({ x: core.deferred(make) })
      .safeParse({ x: { a: 1, b: 'no', c: true } });
    const summary = (r: typeof direct): unknown =>
      r.error?.issues.map((i) => [i.code, i.path, i.message]);
    expect(summary(viaDeferred)).toEqual(summary(direct));
    expect(summary(direct)).not.toEqual([]);
  });

  it('must list closed shapes in the order building them all at once would, deferred ones in their place', () => {
    const { core } = fresh();
    const before = core.closedShapes().length;
    core.strict({ first: core.optTypes(['string']) });
    core.deferred(() =>
      core.strictX({ second: core.deferred(() => core.strict({ third: core.types(['string']) })) }),
    );
    core.strict({ fourth: core.optTypes(['string']) });
    // an object's own keys come after the objects inside it (its arguments are built first)
    expect(core.closedShapes().slice(before)).toEqual([
      ['first'],
      ['third'],
      ['second'],
      ['fourth'],
    ]);
  });

  it('must give the hint for an unknown key inside a part of the file not built yet', () => {
    const { index } = fresh();
    const issues = index.validateSchema({
      services: { web: { image: 'x', deploy: { resources: { limits: { memroy: '1g' } } } } },
    });
    expect(issues.map((i) => [i.detail, i.hint])).toEqual([
      [
        "services.web.deploy.resources.limits additional properties 'memroy' not allowed",
        'did you mean "memory"?',
      ],
    ]);
  });
});
