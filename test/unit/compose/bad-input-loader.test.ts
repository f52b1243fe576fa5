/**
 * Bad input found by a tester (issue 2, "Bad input"), through loadProject: each case asserts the
 * exact rendered error (`file:line:col key.path: detail`) or that compose's accepted input loads.
 * Writes only inside a fresh temp directory per test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ComposeError } from '../../../base/errors.js';
import { loadProject, type LoadedProject } from '../../../compose/index.js';
import { decodeComposeBytes } from '../../../compose/parse.js';
import { validateSchema } from '../../../compose/schema/index.js';

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-bad-loader-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Loads c.yaml (plus extra files) from the temp directory. */
function load(yaml: string | Buffer, extra: Readonly<Record<string, string>> = {}): LoadedProject {
  writeFileSync(join(dir, 'c.yaml'), yaml);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return loadProject({ cwd: dir, files: [join(dir, 'c.yaml')], environment: {} });
}

/**
 * Drops a repetition of the key path at the start of the detail (`a.b[0]: a.b.0 must be ...` ->
 * `a.b[0]: must be ...`), so the assertions hold while the renderer moves between the two forms.
 */
function withoutRepeatedPath(line: string): string {
  const m = /^(.*:\d+:\d+) (\S+?):? (.*)$/.exec(line);
  if (!m) return line;
  const [, head = '', path = '', detail = ''] = m;
  const dotted = path.replace(/\[(\d+)\]/g, '.$1');
  const rest = detail.startsWith(`${dotted} `) ? detail.slice(dotted.length + 1) : detail;
  return `${head} ${dotted}: ${rest}`;
}

/** Loads c.yaml expecting a ComposeError; returns its message with the temp dir as `<dir>`. */
function bad(yaml: string | Buffer, extra: Readonly<Record<string, string>> = {}): string {
  let caught: unknown;
  try {
    load(yaml, extra);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ComposeError);
  const text = (caught as ComposeError).message.split(dir).join('<dir>');
  return text.split('\n').map(withoutRepeatedPath).join('\n');
}

const web = (body: string): string => `services:\n  web:\n    image: nginx\n${body}`;

describe('__proto__ and Object.prototype names as keys', () => {
  it('rejects __proto__ as a service name at its position', () => {
    expect(bad('services:\n  __proto__:\n    image: a\n  web:\n    image: b\n')).toBe(
      '<dir>/c.yaml:2:3 services: key "__proto__" is not supported',
    );
  });

  it('rejects __proto__ as an environment key', () => {
    expect(bad(web('    environment:\n      __proto__: x\n'))).toBe(
      '<dir>/c.yaml:5:7 services.web.environment: key "__proto__" is not supported',
    );
  });

  it('rejects __proto__ at the top level', () => {
    expect(bad('__proto__: {}\nservices:\n  web:\n    image: b\n')).toBe(
      '<dir>/c.yaml:1:1: key "__proto__" is not supported',
    );
  });

  it('rejects __proto__ in list-form environment and labels', () => {
    expect(bad(web('    environment: ["__proto__=1"]\n    labels: ["__proto__"]\n'))).toBe(
      [
        '<dir>/c.yaml:4:19 services.web.environment.0: key "__proto__" is not supported',
        '<dir>/c.yaml:5:14 services.web.labels.0: key "__proto__" is not supported',
      ].join('\n'),
    );
  });

  it('carries constructor and toString as plain keys', () => {
    const { project } = load(
      'services:\n  constructor:\n    image: a\n    environment: {toString: x}\n' +
        '    labels: [hasOwnProperty=1]\n  toString:\n    image: b\n    depends_on: [constructor]\n',
    );
    const svc = (name: string): (typeof project.services)[string] | undefined =>
      Object.hasOwn(project.services, name) ? project.services[name] : undefined;
    expect(Object.keys(project.services).sort()).toEqual(['constructor', 'toString']);
    expect(svc('constructor')?.environment).toEqual({ toString: 'x' });
    expect(svc('constructor')?.labels).toEqual({ hasOwnProperty: '1' });
    expect(Object.keys(svc('toString')?.depends_on ?? {})).toEqual(['constructor']);
  });
});

describe('ports', () => {
  it('reports one error for a port range beyond 65535, before expanding it', () => {
    expect(bad(web('    ports: ["1-100000"]\n'))).toBe(
      '<dir>/c.yaml:4:13 services.web.ports.0: invalid containerPort: 1-100000',
    );
  });

  it('reports a host port range beyond 65535', () => {
    expect(bad(web('    ports: ["70000-70001:80-81"]\n'))).toBe(
      '<dir>/c.yaml:4:13 services.web.ports.0: invalid hostPort: 70000-70001',
    );
  });

  it('rejects an invalid host IP like compose-go (nat.ParsePortSpec)', () => {
    expect(bad(web('    ports: ["1.2.3.999:80:80", "80:80:80:80"]\n'))).toBe(
      [
        '<dir>/c.yaml:4:13 services.web.ports.0: invalid IP address: 1.2.3.999',
        '<dir>/c.yaml:4:32 services.web.ports.1: invalid IP address: 80:80',
      ].join('\n'),
    );
  });

  it('still accepts IPv4 and IPv6 host IPs', () => {
    const { project } = load(web('    ports: ["127.0.0.1:80:80", "[::1]:81:81", "::1:82:82"]\n'));
    expect(project.services.web?.ports?.map((p) => p.host_ip)).toEqual(['127.0.0.1', '::1', '::1']);
  });
});

describe('command and entrypoint strings', () => {
  it('rejects an unterminated quote like shellwords', () => {
    expect(bad(web(`    command: "echo 'unterminated"\n    entrypoint: "sh -c \\"oops"\n`))).toBe(
      [
        '<dir>/c.yaml:4:14 services.web.command: invalid command line string',
        '<dir>/c.yaml:5:17 services.web.entrypoint: invalid command line string',
      ].join('\n'),
    );
  });

  it('keeps a healthcheck test string whole (CMD-SHELL, never split)', () => {
    const { project } = load(web(`    healthcheck:\n      test: "echo 'x"\n`));
    expect(project.services.web?.healthcheck?.test).toEqual(['CMD-SHELL', "echo 'x"]);
  });
});

describe('out-of-range numbers', () => {
  it('rejects a scale beyond integer range', () => {
    expect(bad(web('    scale: 99999999999999999999999\n'))).toBe(
      "<dir>/c.yaml:4:12 services.web.scale: '1e+23' is not a valid integer",
    );
  });

  it('rejects cpus that are not a number, or overflow, with compose-go cast wording', () => {
    expect(bad(web('    cpus: many\n'))).toBe(
      '<dir>/c.yaml:4:11 services.web.cpus: failed to cast to expected type: "many" is not a number',
    );
    expect(bad(web('    cpus: 1e400\n'))).toBe(
      '<dir>/c.yaml:4:11 services.web.cpus: failed to cast to expected type: "1e400" is not a number',
    );
  });

  it('casts a literal numeric string at a typed path like compose-go', () => {
    const { project } = load(web('    cpus: "0.5"\n    scale: "1"\n'));
    expect(project.services.web?.cpus).toBe(0.5);
    expect(project.services.web?.scale).toBe(1);
  });

  it('rejects deploy.resources cpus that are not a number', () => {
    expect(bad(web('    deploy:\n      resources:\n        limits:\n          cpus: lots\n'))).toBe(
      "<dir>/c.yaml:7:17 services.web.deploy.resources.limits.cpus: 'lots' is not a valid number",
    );
  });

  it('rejects a duration that overflows int64 nanoseconds', () => {
    expect(bad(web('    stop_grace_period: 99999999999999999h\n'))).toBe(
      "<dir>/c.yaml:4:24 services.web.stop_grace_period: invalid duration: '99999999999999999h'",
    );
  });

  it('rejects a byte size that overflows float64', () => {
    expect(bad(web('    mem_limit: 1e400\n'))).toBe(
      "<dir>/c.yaml:4:16 services.web.mem_limit: invalid size: '1e400'",
    );
  });
});

describe('schema messages name every allowed type', () => {
  it('command', () => {
    expect(bad(web('    command: {a: 1}\n'))).toBe(
      '<dir>/c.yaml:4:14 services.web.command: must be a null, string or array',
    );
  });

  it('healthcheck.test, env_file, ports entries, build', () => {
    expect(
      bad(web('    healthcheck: {test: 5}\n    env_file: 5\n    ports: [~]\n    build: 5\n')),
    ).toBe(
      [
        '<dir>/c.yaml:7:12 services.web.build: must be a string or mapping',
        '<dir>/c.yaml:5:15 services.web.env_file: must be a string or array',
        '<dir>/c.yaml:4:25 services.web.healthcheck.test: must be a string or array',
        '<dir>/c.yaml:6:13 services.web.ports.0: must be a number, string or mapping',
      ].join('\n'),
    );
  });
});

describe('ulimits', () => {
  it('rejects a single ulimit that is not an integer', () => {
    expect(bad(web('    ulimits: {nofile: lots}\n'))).toBe(
      '<dir>/c.yaml:4:23 services.web.ulimits.nofile: failed to cast to expected type: "lots" is not an integer',
    );
  });

  it('rejects a soft limit that is not an integer', () => {
    expect(bad(web('    ulimits: {nofile: {soft: a, hard: 1}}\n'))).toBe(
      '<dir>/c.yaml:4:30 services.web.ulimits.nofile.soft: failed to cast to expected type: "a" is not an integer',
    );
  });
});

describe('deep nesting', () => {
  it('reports a 1,000-deep flow list as a depth error, not a JS stack overflow', () => {
    const err = bad(web(`    command: ${'['.repeat(1000)}${']'.repeat(1000)}\n`));
    expect(err).toMatch(/^<dir>\/c\.yaml:4:\d+: yaml: exceeded max depth of 500$/);
  });

  it('reports nesting just past the limit at the deep node', () => {
    const n = 501; // x-deep is level 1, so the innermost list is level 502
    expect(bad(`x-deep: ${'['.repeat(n)}${']'.repeat(n)}\nservices:\n  web:\n    image: a\n`)).toBe(
      `<dir>/c.yaml:1:${8 + n} x-deep.0.0: yaml: exceeded max depth of 500`,
    );
  });

  it('loads nesting up to the limit through every phase', () => {
    const n = 499;
    const { project } = load(
      `x-deep: ${'['.repeat(n)}1${']'.repeat(n)}\nservices:\n  web:\n    image: a\n`,
    );
    expect(Object.keys(project.services)).toEqual(['web']);
  });
});

describe('unknown keys carry a did-you-mean hint', () => {
  it('offers the closest service key', () => {
    const issues = validateSchema({ services: { web: { image: 'a', enviroment: {} } } });
    expect(issues).toEqual([
      {
        path: ['services', 'web'],
        detail: "services.web additional properties 'enviroment' not allowed",
        hint: 'did you mean "environment"?',
      },
    ]);
  });

  it('uses the keys of the object the siblings belong to (healthcheck)', () => {
    const issues = validateSchema({
      services: { web: { image: 'a', healthcheck: { test: 'x', intervall: '1s' } } },
    });
    expect(issues.map((i) => i.hint)).toEqual(['did you mean "interval"?']);
  });

  it('at the top level offers top-level keys, never the key itself (service:, servics:, volume:)', () => {
    const hint = (key: string): (string | undefined)[] =>
      validateSchema({ [key]: { a: {} } }).map((i) => i.hint);
    expect(hint('service')).toEqual(['did you mean "services"?']);
    expect(hint('servics')).toEqual(['did you mean "services"?']);
    expect(hint('volume')).toEqual(['did you mean "volumes"?']);
    expect(hint('netwrks')).toEqual(['did you mean "networks"?']);
  });

  it('points at an unknown top-level key, not at 1:1', () => {
    expect(bad('services:\n  web:\n    image: a\n\nservice:\n  a: {}\n')).toBe(
      "<dir>/c.yaml:5:1: additional properties 'service' not allowed",
    );
  });

  it('offers nothing when no key is close', () => {
    const issues = validateSchema({ services: { web: { image: 'a', zzzzzz: 1 } } });
    expect(issues.map((i) => [i.detail, i.hint])).toEqual([
      ["services.web additional properties 'zzzzzz' not allowed", undefined],
    ]);
  });

  it('keeps the rendered message as compose-go words it', () => {
    expect(bad(web('    enviroment:\n      A: b\n'))).toMatch(
      /^<dir>\/c\.yaml:[34]:5 services\.web: additional properties 'enviroment' not allowed$/,
    );
  });
});

describe('invalid UTF-8 (decodeComposeBytes, for the file readers)', () => {
  const decode = (bytes: number[] | Buffer): string => {
    try {
      return decodeComposeBytes(Buffer.from(bytes), 'c.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ComposeError);
      return `error: ${(e as ComposeError).message}`;
    }
  };

  it('decodes valid UTF-8 (BOM kept for the YAML parser)', () => {
    expect(decode(Buffer.from('\ufeffimage: "café 🐳"\n'))).toBe('\ufeffimage: "café 🐳"\n');
  });

  it('rejects a stray continuation byte at its line and column', () => {
    const text = Buffer.concat([
      Buffer.from('services:\n  web:\n    image: é'),
      Buffer.from([0x80]),
    ]);
    expect(decode(text)).toBe('error: c.yaml:3:13: yaml: invalid leading UTF-8 octet');
  });

  it('reaches the user through loadProject as a parse error at its position, not a read error', () => {
    const file = join(dir, 'c.yaml');
    expect(() =>
      load(Buffer.from([...Buffer.from('services:\n  a:\n    image: x'), 0xff])),
    ).toThrow(`${file}:3:13: yaml: invalid leading UTF-8 octet`);
  });

  it('rejects a truncated sequence, an overlong form and a surrogate', () => {
    expect(decode([0x61, 0xe2, 0x82])).toBe(
      'error: c.yaml:1:2: yaml: incomplete UTF-8 octet sequence',
    );
    expect(decode([0xc0, 0xaf])).toBe('error: c.yaml:1:1: yaml: invalid leading UTF-8 octet');
    expect(decode([0xed, 0xa0, 0x80])).toBe(
      'error: c.yaml:1:1: yaml: invalid trailing UTF-8 octet',
    );
    expect(decode([0x41, 0xe2, 0x28, 0xa1])).toBe(
      'error: c.yaml:1:2: yaml: invalid trailing UTF-8 octet',
    );
  });
});

describe('devices and extra_hosts short syntax', () => {
  it('rejects a device with more than three parts like compose-go', () => {
    expect(bad(web('    devices: [":::"]\n'))).toBe(
      '<dir>/c.yaml:4:15 services.web.devices.0: confusing device mapping, please use long syntax: :::',
    );
  });

  it('takes the source as target when the target is empty', () => {
    const { project } = load(web('    devices: ["/dev/fuse::rw"]\n'));
    expect(project.services.web?.devices).toEqual([
      { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rw' },
    ]);
  });

  it('rejects an extra host without an IP', () => {
    expect(bad(web('    extra_hosts: ["nohost", "ok:1.2.3.4"]\n'))).toBe(
      '<dir>/c.yaml:4:19 services.web.extra_hosts.0: invalid additional host, missing IP: nohost',
    );
  });
});
