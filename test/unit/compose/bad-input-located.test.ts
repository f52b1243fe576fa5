/**
 * Where loader errors point (issue "Bad input", second round): errors in included files, merged
 * -f files, services taken by `extends` from another file, deduplicated volume lists, links /
 * volumes_from / network_mode targets, deep interpolation nesting.
 * Writes only inside a fresh temp directory per test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { ComposeError } from '../../../base/errors.js';
import { loadProject } from '../../../compose/index.js';

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-located-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the files, loads `files` (-f order) and returns the ComposeError message, `<dir>` for the temp dir. */
function bad(files: readonly string[], contents: Readonly<Record<string, string>>): string {
  for (const [name, text] of Object.entries(contents)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  let caught: unknown;
  try {
    loadProject({ cwd: dir, files: files.map((f) => join(dir, f)), environment: {} });
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ComposeError);
  return (caught as ComposeError).message.split(dir).join('<dir>');
}

describe('errors in an included file', () => {
  it('names the included file, the line and the bracket path', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'include:\n  - sub/other.yaml\nservices:\n  web:\n    image: nginx\n',
        'sub/other.yaml': 'services:\n  x:\n    image: a\n    ports: ["bad"]\n',
      }),
    ).toBe('<dir>/sub/other.yaml:4:13 services.x.ports[0]: invalid containerPort: bad');
  });

  it('locates a later-phase (reference) error in the included file', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'include:\n  - sub/other.yaml\nservices:\n  web:\n    image: nginx\n',
        'sub/other.yaml': 'services:\n  x:\n    image: a\n    networks: [nope]\n',
      }),
    ).toBe(
      '<dir>/sub/other.yaml:4:15 services.x.networks.nope: service "x" refers to undefined network nope: invalid compose project',
    );
  });
});

describe('errors in merged -f files', () => {
  it('points at the override file that adds the bad entry', () => {
    expect(
      bad(['base.yaml', 'over.yaml'], {
        'base.yaml': 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
        'over.yaml': 'services:\n  web:\n    ports: ["x:80"]\n',
      }),
    ).toBe('<dir>/over.yaml:3:13 services.web.ports[0]: invalid hostPort: x');
  });
});

describe('errors in a service taken by extends from another file', () => {
  it('points at the file and line where the value is written', () => {
    expect(
      bad(['ext5.yaml'], {
        'ext5.yaml':
          'services:\n  a:\n    extends:\n      file: sub/other.yaml\n      service: b\n',
        'sub/other.yaml': 'services:\n  b:\n    image: a\n    ports: ["bad"]\n',
      }),
    ).toBe('<dir>/sub/other.yaml:4:13 services.a.ports[0]: invalid containerPort: bad');
  });
});

describe('errors in a service taken by extends (more)', () => {
  it('follows a chain of extends across files', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'services:\n  a:\n    extends:\n      file: one.yaml\n      service: b\n',
        'one.yaml': 'services:\n  b:\n    extends:\n      file: two.yaml\n      service: c\n',
        'two.yaml': 'services:\n  c:\n    image: x\n    ports: ["1:2", "bad"]\n',
      }),
    ).toBe('<dir>/two.yaml:4:20 services.a.ports[1]: invalid containerPort: bad');
  });

  it('points an inherited entry at the base, not at the extending service own entry', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml':
          'services:\n  base:\n    image: x\n    ports: ["bad"]\n  a:\n    extends: base\n    ports: ["1:2"]\n',
      }),
    ).toBe(
      [
        '<dir>/c.yaml:4:13 services.base.ports[0]: invalid containerPort: bad',
        '<dir>/c.yaml:4:13 services.a.ports[0]: invalid containerPort: bad',
      ].join('\n'),
    );
  });

  it('points the extending service own entry at its own line', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml':
          'services:\n  a:\n    extends:\n      file: one.yaml\n      service: b\n    ports: ["bad2"]\n',
        'one.yaml': 'services:\n  b:\n    image: x\n    ports: ["1:2"]\n',
      }),
    ).toBe('<dir>/c.yaml:6:13 services.a.ports[0]: invalid containerPort: bad2');
  });
});

describe('errors in merged -f files (more)', () => {
  it('finds an interpolated entry of the override file by its value', () => {
    expect(
      bad(['b.yaml', 'o.yaml'], {
        'b.yaml': 'services:\n  web:\n    image: x\n    ports: ["1:2"]\n',
        'o.yaml': 'services:\n  web:\n    ports:\n      - "3:4"\n      - "${P:-bad}"\n',
      }),
    ).toBe('<dir>/o.yaml:5:9 services.web.ports[1]: invalid containerPort: bad');
  });
});

describe('duplicate volume targets', () => {
  it('reports a later bad entry at its own line and index', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml':
          'services:\n  web:\n    image: nginx\n    volumes:\n      - /a:/data\n      - /b:/data\n      - type: weird\n        target: /x\n',
      }),
    ).toBe(
      '<dir>/c.yaml:7:15 services.web.volumes.2.type value must be one of "bind", "volume", "tmpfs", "cluster", "npipe", "image"',
    );
  });
});

describe('links, volumes_from and network_mode targets', () => {
  it('reports a missing links target at the links entry', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'services:\n  web:\n    image: nginx\n    links: [ghost1]\n',
      }),
    ).toBe(
      '<dir>/c.yaml:4:13 services.web.links[0]: service "web" depends on undefined service "ghost1": invalid compose project',
    );
  });
  it('reports a missing volumes_from target at the entry', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'services:\n  web:\n    image: nginx\n    volumes_from: [ghost1]\n',
      }),
    ).toBe(
      '<dir>/c.yaml:4:20 services.web.volumes_from[0]: service "web" depends on undefined service "ghost1": invalid compose project',
    );
  });
  it('reports a missing network_mode service once', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'services:\n  web:\n    image: nginx\n    network_mode: service:ghost2\n',
      }),
    ).toBe(
      '<dir>/c.yaml:4:19 services.web.network_mode: service "web" depends on undefined service "ghost2": invalid compose project',
    );
  });
  it('keeps a dependency also declared under depends_on at depends_on', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml': 'services:\n  web:\n    image: nginx\n    links: [db]\n    depends_on: [db]\n',
      }),
    ).toBe(
      '<dir>/c.yaml:5:17 services.web.depends_on.db: service "web" depends on undefined service "db": invalid compose project',
    );
  });
  it('reports a network_mode / volumes_from cycle at those keys', () => {
    expect(
      bad(['c.yaml'], {
        'c.yaml':
          'services:\n  a:\n    image: nginx\n    network_mode: service:b\n  b:\n    image: nginx\n    volumes_from: [a]\n',
      }),
    ).toBe('<dir>/c.yaml:4:19 services.a.network_mode: dependency cycle detected: a -> b -> a');
  });
});

describe('deep interpolation nesting', () => {
  const nested = (levels: number): string => {
    let v = 'x';
    for (let i = levels - 1; i >= 0; i--) v = `\${A${i}:-${v}}`;
    return v;
  };

  it('refuses 2000 nested defaults at the value, without overflowing the stack', () => {
    expect(bad(['c.yaml'], { 'c.yaml': `services:\n  web:\n    image: "${nested(2000)}"\n` })).toBe(
      '<dir>/c.yaml:3:12 services.web.image: invalid interpolation format: templates nested more than 1000 levels deep',
    );
  });

  it('still evaluates 1000 nested defaults', () => {
    writeFileSync(join(dir, 'c.yaml'), `services:\n  web:\n    image: "${nested(1000)}"\n`);
    const { project } = loadProject({ cwd: dir, files: [join(dir, 'c.yaml')], environment: {} });
    expect(project.services['web']?.image).toBe('x');
  });
});
