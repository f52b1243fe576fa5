/**
 * Bad input to `tscompose config` that the CLI already handles well: the exact rendered error
 * (file:line:col key.path: detail, hint), the exit code (1 bad file, 2 bad usage), empty stdout,
 * and no file created. Runs main() in a fresh temp cwd per test; writes only inside it.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { main } from '../../../cli/main.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  /** stderr with the temp directory replaced by `<dir>`. */
  readonly stderr: string;
}

let dir = '';
let oldCwd = '';
const savedEnv = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-bad-input-'));
  oldCwd = process.cwd();
  process.chdir(dir);
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('COMPOSE_') || k === 'TAG') Reflect.deleteProperty(process.env, k);
  }
});

afterEach(() => {
  process.chdir(oldCwd);
  rmSync(dir, { recursive: true, force: true });
  process.env = { ...savedEnv };
});

/** Writes the files (name -> content) into the temp cwd. */
function files(fs: Readonly<Record<string, string | Buffer>>): void {
  for (const [name, text] of Object.entries(fs)) writeFileSync(join(dir, name), text);
}

/** Runs main(argv) in the temp cwd, capturing stdout and stderr; asserts nothing new was written. */
async function run(argv: readonly string[]): Promise<Run> {
  const before = readdirSync(dir).sort();
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  let code: number;
  try {
    code = await main(argv);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  expect(readdirSync(dir).sort()).toEqual(before);
  const text = stderr.split(dir).join('<dir>').trimEnd();
  return { code, stdout, stderr: text };
}

/** Runs `-f c.yaml config` on this compose text; expects exit 1, no stdout, and returns stderr. */
async function bad(
  yaml: string | Buffer,
  extra: Readonly<Record<string, string>> = {},
): Promise<string> {
  files({ 'c.yaml': yaml, ...extra });
  const r = await run(['-f', 'c.yaml', 'config']);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(1);
  return r.stderr;
}

describe('YAML syntax', () => {
  it('reports a mis-indented key with its line', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n   ports:\n      - 80\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:4:1: yaml: All mapping items must start at the same column',
    );
  });

  it('reports a tab used as indentation', async () => {
    expect(await bad('services:\n\tweb:\n    image: nginx\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:2:1: yaml: Tabs are not allowed as indentation',
    );
  });

  it('reports an unclosed quote', async () => {
    expect(await bad('services:\n  web:\n    image: "nginx\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:4:1: yaml: Missing closing "quote',
    );
  });

  it('reports a duplicate key with both lines, like go-yaml', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    image: redis\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:4:5 services.web: yaml: line 4: mapping key "image" already defined at line 3',
    );
  });

  it('reports a duplicate service name', async () => {
    expect(await bad('services:\n  web:\n    image: a\n  web:\n    image: b\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:4:3 services: yaml: line 4: mapping key "web" already defined at line 2',
    );
  });

  it('rejects a list at top level', async () => {
    expect(await bad('- a\n- b\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:1:1: top-level object must be a mapping',
    );
  });

  it('rejects a scalar at top level', async () => {
    expect(await bad('hello\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:1:1: top-level object must be a mapping',
    );
  });

  it('rejects an empty file', async () => {
    expect(await bad('')).toBe('error[TSC_COMPOSE_PARSE]: <dir>/c.yaml: empty compose file');
  });

  it('rejects a whitespace-only file', async () => {
    expect(await bad('   \n\n  \n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml: empty compose file',
    );
  });

  it('stops an alias bomb (billion laughs) with go-yaml wording', async () => {
    const lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      lines.push(`x-a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]`);
    }
    lines.push('services:\n  web:\n    image: nginx\n    command: *a9\n');
    const err = await bad(lines.join('\n'));
    expect(err).toMatch(/^error\[TSC_COMPOSE_PARSE\]: <dir>\/c\.yaml:\d+:\d+ /);
    expect(err).toMatch(/yaml: document contains excessive aliasing$/);
  });

  it('reports an undefined alias at its position', async () => {
    expect(await bad('services:\n  web:\n    image: *nope\n')).toBe(
      "error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:3:12 services.web.image: yaml: unknown anchor 'nope' referenced",
    );
  });

  it('reports a merge key on a scalar', async () => {
    expect(await bad('services:\n  web:\n    <<: 5\n    image: nginx\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:3:9 services.web: yaml: map merge requires map or sequence of maps as the value',
    );
  });

  it('reports a numeric key like compose-go', async () => {
    expect(await bad('services:\n  1:\n    image: nginx\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:2:3 services: non-string key in services: 1',
    );
  });

  it('reports a numeric top-level key', async () => {
    expect(await bad('1: x\nservices:\n  web:\n    image: nginx\n')).toBe(
      'error[TSC_COMPOSE_PARSE]: <dir>/c.yaml:1:1: non-string key at top level: 1',
    );
  });

  it('loads a file with a BOM and CRLF line endings', async () => {
    files({ 'c.yaml': '\ufeffservices:\r\n  web:\r\n    image: nginx\r\n' });
    const r = await run(['-f', 'c.yaml', 'config', '--services']);
    expect(r).toEqual({ code: 0, stdout: 'web\n', stderr: '' });
  });

  it('reports the line of an error in a CRLF file', async () => {
    expect(await bad('services:\r\n  web:\r\n    image: nginx\r\n    ports: abc\r\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:12 services.web.ports must be a array',
    );
  });
});

describe('schema and types', () => {
  it('rejects ports given as a map', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    ports:\n      http: 80\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:5:7 services.web.ports must be a array',
    );
  });

  it('rejects environment given as a number', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    environment: 5\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:18 services.web.environment must be a mapping or array',
    );
  });

  it('rejects a typo in a service key (enviroment)', async () => {
    // the position is the service mapping today (3:5); the key itself (4:5) would be better
    expect(await bad('services:\n  web:\n    image: nginx\n    enviroment:\n      A: b\n')).toMatch(
      /^error\[TSC_COMPOSE_INVALID\]: <dir>\/c\.yaml:4:5 services\.web additional properties 'enviroment' not allowed\nhint: did you mean "environment"\?$/,
    );
  });

  it('rejects a negative scale', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    scale: -1\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:12 services.web.scale must be greater than or equal to 0',
    );
  });

  it('rejects an unknown depends_on condition', async () => {
    expect(
      await bad(
        'services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_ready\n  b:\n    image: x\n',
      ),
    ).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:6:20 services.a.depends_on.b.condition value must be one of "service_started", "service_healthy", "service_completed_successfully"',
    );
  });

  it('rejects an unknown pull_policy, naming the pattern', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    pull_policy: sometimes\n')).toBe(
      "error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:18 services.web.pull_policy 'sometimes' does not match pattern 'always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+'",
    );
  });

  it('rejects a null port entry', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    ports: [~]\n')).toMatch(
      /^error\[TSC_COMPOSE_INVALID\]: <dir>\/c\.yaml:4:13 services\.web\.ports\.0 must be a number, string or mapping$/,
    );
  });

  it('rejects `services: ~`', async () => {
    expect(await bad('services: ~\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:1:1 services must be a mapping',
    );
  });

  it('rejects a service without image or build', async () => {
    expect(await bad('services:\n  web: ~\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:2:3 services.web service "web" has neither an image nor a build context specified: invalid compose project',
    );
  });

  it('rejects a host port out of range with its position', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    ports:\n      - "99999:80"\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:5:9 services.web.ports[0]: invalid hostPort: 99999',
    );
  });

  it('reports all schema errors of a file together', async () => {
    const err = await bad(
      'services:\n  web:\n    image: 5\n    ports: {a: 1}\n    environment: 5\n  db:\n    image: x\n    enviroment: {}\n',
    );
    expect(err.startsWith('error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:')).toBe(true);
    const [body = '', hint] = err.split('\nhint: ');
    expect(hint).toBe('did you mean "environment"?');
    const lines = body.replace('error[TSC_COMPOSE_INVALID]: ', '').split('\n').sort();
    expect(lines.slice(0, 3)).toEqual([
      '<dir>/c.yaml:3:12 services.web.image must be a string',
      '<dir>/c.yaml:4:12 services.web.ports must be a array',
      '<dir>/c.yaml:5:18 services.web.environment must be a mapping or array',
    ]);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(
      /^<dir>\/c\.yaml:8:5 services\.db additional properties 'enviroment' not allowed$/,
    );
  });

  it('reports errors of the second -f file with its own name', async () => {
    files({
      'a.yaml': 'services:\n  web:\n    image: nginx\n',
      'b.yaml': 'services:\n  web:\n    environment: 5\n',
    });
    const r = await run(['-f', 'a.yaml', '-f', 'b.yaml', 'config']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error[TSC_COMPOSE_INVALID]: <dir>/b.yaml:3:18 services.web.environment must be a mapping or array',
    });
  });
});

describe('references and cycles', () => {
  it('rejects depends_on on itself', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    depends_on: [web]\n')).toBe(
      'error[TSC_COMPOSE_CYCLE]: <dir>/c.yaml:4:17 services.web.depends_on: dependency cycle detected: web -> web',
    );
  });

  it('rejects depends_on on a missing service', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    depends_on: [db]\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:17 services.web.depends_on.db: service "web" depends on undefined service "db": invalid compose project',
    );
  });

  it('rejects a depends_on cycle of 3, listed in sorted order', async () => {
    expect(
      await bad(
        'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n',
      ),
    ).toBe(
      'error[TSC_COMPOSE_CYCLE]: <dir>/c.yaml:4:17 services.a.depends_on: dependency cycle detected: a -> b -> c -> a',
    );
  });

  it('rejects container_name with scale: 2 (compose-go wording)', async () => {
    expect(
      await bad('services:\n  web:\n    image: nginx\n    container_name: web1\n    scale: 2\n'),
    ).toBe(
      "error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:21 services.web.container_name: services.scale: can't set container_name and web as container name must be unique: invalid compose project",
    );
  });

  it('rejects two services with the same container_name', async () => {
    expect(
      await bad(
        'services:\n  a:\n    image: x\n    container_name: same\n  b:\n    image: x\n    container_name: same\n',
      ),
    ).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:7:21 services.b.container_name: container name "same" is already in use by service "a": invalid compose project',
    );
  });

  it('rejects an undefined network', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    networks: [front]\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:15 services.web.networks.front: service "web" refers to undefined network front: invalid compose project',
    );
  });

  it('rejects an undefined named volume', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    volumes: ["data:/data"]\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:15 services.web.volumes[0]: service "web" refers to undefined volume data: invalid compose project',
    );
  });

  it('rejects an undefined secret', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    secrets: [pw]\n')).toBe(
      'error[TSC_COMPOSE_INVALID]: <dir>/c.yaml:4:15 services.web.secrets[0]: service "web" refers to undefined secret pw: invalid compose project',
    );
  });
});

describe('interpolation', () => {
  it('rejects an unterminated ${ with the $$ hint', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    command: echo ${FOO\n')).toBe(
      'error[TSC_COMPOSE_INTERPOLATE]: <dir>/c.yaml:4:14 services.web.command: invalid interpolation format: invalid template: "echo ${FOO"\n' +
        'hint: escape "$" as "$$"',
    );
  });

  it('reports a missing ${VAR:?msg} with the message', async () => {
    expect(await bad('services:\n  web:\n    image: "nginx:${TAG:?tag is required}"\n')).toBe(
      'error[TSC_COMPOSE_INTERPOLATE]: <dir>/c.yaml:3:12 services.web.image: required variable TAG is missing a value: tag is required',
    );
  });

  it('reports a missing ${VAR?} without a message', async () => {
    expect(await bad('services:\n  web:\n    image: "nginx:${TAG?}"\n')).toBe(
      'error[TSC_COMPOSE_INTERPOLATE]: <dir>/c.yaml:3:12 services.web.image: required variable TAG is missing a value',
    );
  });

  it('warns about an unset variable like docker compose and still succeeds', async () => {
    files({ 'c.yaml': 'services:\n  web:\n    image: nginx:${TAG}\n' });
    const r = await run(['-f', 'c.yaml', 'config', '--images']);
    expect(r).toEqual({
      code: 0,
      stdout: 'nginx:\n',
      stderr: 'WARN[0000] The "TAG" variable is not set. Defaulting to a blank string.',
    });
  });
});

describe('env files', () => {
  it('rejects a bad .env line with file and line', async () => {
    files({
      'compose.yaml': 'services:\n  web:\n    image: nginx:${TAG}\n',
      '.env': 'TAG=1\nthis is not valid\n',
    });
    const r = await run(['config']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error[TSC_COMPOSE_ENV_FILE]: <dir>/.env: line 2: key cannot contain a space',
    });
  });

  it('reports a missing ${VAR:?msg} inside .env with its line', async () => {
    files({
      'compose.yaml': 'services:\n  web:\n    image: nginx:${A}\n',
      '.env': 'A=${B:?b is required}\n',
    });
    expect(await run(['config'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error[TSC_COMPOSE_ENV_FILE]: <dir>/.env: line 1: required variable B is missing a value: b is required',
    });
  });

  it('reports an unterminated quote in .env', async () => {
    files({
      'compose.yaml': 'services:\n  web:\n    image: nginx:${A}\n',
      '.env': 'A="unclosed\nB=2\n',
    });
    expect(await run(['config'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error[TSC_COMPOSE_ENV_FILE]: <dir>/.env: line 1: unterminated quoted value "unclosed',
    });
  });

  it('rejects a bad line in an env_file', async () => {
    expect(
      await bad('services:\n  web:\n    image: nginx\n    env_file: bad.env\n', {
        'bad.env': 'OK=1\nnot valid line\n',
      }),
    ).toBe('error[TSC_COMPOSE_ENV_FILE]: <dir>/bad.env: line 2: key cannot contain a space');
  });

  it('accepts a missing env_file with required: false', async () => {
    files({
      'c.yaml':
        'services:\n  web:\n    image: nginx\n    env_file:\n      - path: missing.env\n        required: false\n',
    });
    const r = await run(['-f', 'c.yaml', 'config', '--services']);
    expect(r).toEqual({ code: 0, stdout: 'web\n', stderr: '' });
  });
});

describe('extends and include', () => {
  it('rejects extends of a missing service', async () => {
    expect(await bad('services:\n  web:\n    extends:\n      service: base\n')).toBe(
      'error[TSC_COMPOSE_EXTENDS]: <dir>/c.yaml:4:7 services.web.extends: cannot extend service "web" in <dir>/c.yaml: service "base" not found',
    );
  });

  it('rejects an extends cycle', async () => {
    expect(
      await bad(
        'services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n',
      ),
    ).toBe(
      'error[TSC_COMPOSE_EXTENDS]: <dir>/c.yaml:4:14 services.a.extends: circular reference in extends: <dir>/c.yaml#a -> <dir>/c.yaml#b -> <dir>/c.yaml#a',
    );
  });

  it('rejects extends of a missing service in another file', async () => {
    expect(
      await bad('services:\n  web:\n    extends:\n      file: other.yaml\n      service: nope\n', {
        'other.yaml': 'services:\n  base:\n    image: x\n',
      }),
    ).toBe(
      'error[TSC_COMPOSE_EXTENDS]: <dir>/c.yaml:4:7 services.web.extends: cannot extend service "web" in <dir>/c.yaml: service "nope" not found in <dir>/other.yaml',
    );
  });

  it('rejects extends given as a number', async () => {
    expect(await bad('services:\n  web:\n    image: nginx\n    extends: 5\n')).toBe(
      'error[TSC_COMPOSE_EXTENDS]: <dir>/c.yaml:4:14 services.web.extends: extends must be a string or a mapping',
    );
  });

  it('rejects an include cycle', async () => {
    expect(
      await bad('include:\n  - d.yaml\nservices:\n  web:\n    image: x\n', {
        'd.yaml': 'include:\n  - c.yaml\nservices:\n  db:\n    image: x\n',
      }),
    ).toBe(
      'error[TSC_COMPOSE_INCLUDE]: <dir>/d.yaml:2:5 include[0]: include cycle detected: <dir>/c.yaml -> <dir>/d.yaml -> <dir>/c.yaml',
    );
  });
});

describe('command line', () => {
  it('reports a missing -f file with a hint', async () => {
    const r = await run(['-f', 'missing.yaml', 'config']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error[TSC_COMPOSE_NOT_FOUND]: <dir>/missing.yaml: no such file\nhint: check the -f / COMPOSE_FILE paths',
    });
  });

  it('reports a directory without a compose file', async () => {
    const r = await run(['config']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error[TSC_COMPOSE_NOT_FOUND]: <dir>: no configuration file provided: not found\nhint: create compose.yaml here or name one with -f',
    });
  });

  it.each([['Upper'], ['-lead'], ['_x']])('rejects the project name %s', async (name) => {
    files({ 'c.yaml': 'services:\n  web:\n    image: nginx\n' });
    const r = await run(['-f', 'c.yaml', '-p', name, 'config']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `error[TSC_COMPOSE_PROJECT_NAME]: -p name: invalid project name "${name}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    });
  });

  it('refuses --scale of a service the project does not have, before any daemon call', async () => {
    files({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    const r = await run(['-H', `unix://${join(dir, 'no.sock')}`, 'up', '-d', '--scale', 'nosvc=2']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error[TSC_COMPOSE_REFERENCE]: no such service: nosvc',
    });
  });

  it('exits 2 for an unknown command', async () => {
    const r = await run(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("error[TSC_USAGE]: unknown command 'bogus'");
  });

  it.each([
    [['--bogus', 'config'], "error[TSC_USAGE]: unknown option '--bogus'"],
    [['config', '--bogus'], "error[TSC_USAGE]: unknown option '--bogus'"],
    // (`config extra` names a service now: test/unit/cli/config-services.test.ts)
    [
      ['version', 'extra'],
      "error[TSC_USAGE]: too many arguments for 'version'. Expected 0 arguments but got 1.",
    ],
    [['-f'], "error[TSC_USAGE]: option '-f, --file <path>' argument missing"],
    [
      ['config', '--format', 'xml'],
      'error[TSC_USAGE]: unsupported format "xml"\nhint: use --format yaml or --format json',
    ],
    // global flags are checked whatever the command
    [
      ['--ansi', 'maybe', 'config'],
      'error[TSC_USAGE]: unsupported --ansi value "maybe"\nhint: use one of never, always, auto',
    ],
    [
      ['--progress', 'bogus', 'config'],
      'error[TSC_USAGE]: unsupported --progress value "bogus"\nhint: use one of auto, tty, plain, json, quiet',
    ],
    [
      ['--parallel', 'x', 'config'],
      'error[TSC_USAGE]: invalid argument "x" for "--parallel" flag: must be a non-zero integer',
    ],
  ])('exits 2 for bad usage %j', async (argv, message) => {
    files({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    const r = await run(argv);
    expect(r).toEqual({ code: 2, stdout: '', stderr: message });
  });
});
