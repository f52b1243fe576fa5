import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeError } from '../../../base/errors';
import { parseDotenv, parseRawEnv } from '../../../compose/dotenv';

const CORPUS = process.env['TSC_CORPUS'] ?? join(__dirname, '../../../../shared/corpus');
const EXPECTED = join(CORPUS, 'expected/dotenv');
const CASES = join(__dirname, '../../../../shared/cases');

interface LineCase {
  input: string;
  key?: string;
  value?: string;
  expect?: Record<string, string>;
  name?: string;
  lookup_env?: Record<string, string>;
  expect_error_contains?: string;
}
interface ParseLines {
  cases: LineCase[];
  expanding: LineCase[];
  errors: LineCase[];
  lookup: LineCase[];
}
interface FileFact {
  id: string;
  file: string;
  lookup_env?: Record<string, string> | null;
  expect: Record<string, string> | 'invalid';
  expect_error_contains?: string;
  note?: string;
}

const lookupOf =
  (env: Record<string, string> | null | undefined) =>
  (name: string): string | undefined =>
    env && Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;

const parseLines = JSON.parse(
  readFileSync(join(EXPECTED, 'parse-lines.json'), 'utf8'),
) as ParseLines;

describe('compose/dotenv: corpus parse-lines.json', () => {
  describe('lines', () => {
    it.each(parseLines.cases.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_n, c) => {
      const got = Object.fromEntries(parseDotenv(c.input, 'test.env'));
      if (c.expect) expect(got).toEqual(c.expect);
      else expect(got).toEqual({ [c.key ?? '']: c.value });
    });
  });
  describe('expanding', () => {
    it.each(parseLines.expanding.map((c) => [c.name ?? c.input, c] as const))('%s', (_n, c) => {
      expect(Object.fromEntries(parseDotenv(c.input, 'test.env'))).toEqual(c.expect);
    });
  });
  describe('lookup', () => {
    it.each(parseLines.lookup.map((c) => [c.input, c] as const))('%s', (_n, c) => {
      const got = parseDotenv(c.input, 'test.env', lookupOf(c.lookup_env));
      expect(Object.fromEntries(got)).toEqual(c.expect);
    });
  });
  describe('errors', () => {
    it.each(parseLines.errors.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_n, c) => {
      let err: unknown;
      try {
        parseDotenv(c.input, 'test.env');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ComposeError);
      expect((err as ComposeError).code).toBe('TSC_COMPOSE_ENV_FILE');
      if (c.expect_error_contains) {
        expect((err as ComposeError).message).toContain(c.expect_error_contains);
      }
    });
  });
});

const fileFacts = readdirSync(EXPECTED)
  .filter((f) => f.endsWith('.json') && f !== 'parse-lines.json')
  .sort()
  .map((f) => JSON.parse(readFileSync(join(EXPECTED, f), 'utf8')) as FileFact);

describe('compose/dotenv: corpus fixtures', () => {
  it.each(fileFacts.map((f) => [f.id, f] as const))('%s', (_id, fact) => {
    const text = readFileSync(join(CORPUS, fact.file), 'utf8');
    if (fact.expect === 'invalid') {
      expect(() => parseDotenv(text, fact.file, lookupOf(fact.lookup_env))).toThrow(
        fact.expect_error_contains ?? '',
      );
      return;
    }
    // TestReadPlainEnv goes through compose-go dotenv.Read, which drops keys starting with a digit.
    const skipDigitKeys = fact.id === 'dotenv-TestReadPlainEnv';
    const got = Object.fromEntries(
      parseDotenv(text, fact.file, lookupOf(fact.lookup_env), { skipDigitKeys }),
    );
    // TestUTF8BOM upstream checks only the listed keys (through os.Getenv after Load).
    if (fact.id === 'dotenv-TestUTF8BOM') expect(got).toMatchObject(fact.expect);
    else expect(got).toEqual(fact.expect);
  });
});

describe('compose/dotenv: behaviour', () => {
  it('cuts unquoted inline comments only at " #"', () => {
    expect(Object.fromEntries(parseDotenv('A=#x\nB=a\t#b\nC=c #d\n', 'x.env'))).toEqual({
      A: '#x',
      B: 'a\t#b',
      C: 'c',
    });
  });

  it("double quotes: \\$ and $$ are literal, \\' and \\01 are kept as written", () => {
    const env = parseDotenv('V=x\nA="\\$V $$V $V"\nB="it\\\'s"\nC="\\01"\n', 'x.env');
    expect(Object.fromEntries(env)).toEqual({ V: 'x', A: '$V $V x', B: "it\\'s", C: '\\01' });
  });

  it('keeps file order', () => {
    expect([...parseDotenv('B=1\nA=2\nC=3\n', 'x.env').keys()]).toEqual(['B', 'A', 'C']);
  });

  it('names the file and line in errors', () => {
    expect(() => parseDotenv('A=1\n\nB="open\n', 'conf/app.env')).toThrow(
      'conf/app.env: line 3: unterminated quoted value "open',
    );
  });

  it('counts lines inside multi-line quoted values', () => {
    expect(() => parseDotenv("A='x\ny\nz'\nBAD KEY\n", 'a.env')).toThrow(
      'a.env: line 4: key cannot contain a space',
    );
  });

  it('expands defaults against lookup first, then earlier lines', () => {
    const env = parseDotenv("A=file\nB=${A}\nC=${MISSING:-dflt}\nD='${A}'\n", 'x.env', (n) =>
      n === 'A' ? 'os' : undefined,
    );
    expect(Object.fromEntries(env)).toEqual({ A: 'file', B: 'os', C: 'dflt', D: '${A}' });
  });

  it('case 002: inline comments after values, # inside a word kept', () => {
    const text = readFileSync(
      join(CASES, '002-dotenv-inline-comment-in-interpolation/.env'),
      'utf8',
    );
    const env = parseDotenv(text, '.env');
    expect(Object.fromEntries(env)).toEqual({
      WEB_PORT: '18080',
      BUILD_LABEL: 'rel-7#not-a-comment',
      OWNER_NAME: 'Team Blue',
    });
  });

  it('case 003: unquoted values with spaces, -D flags and =', () => {
    const text = readFileSync(
      join(CASES, '003-envfile-unquoted-value-with-spaces-and-equals/jvm.env'),
      'utf8',
    );
    const env = parseDotenv(text, 'jvm.env');
    expect(Object.fromEntries(env)).toEqual({
      JAVA_OPTS: '-Xmx2048m -Dapp.mode=demo -Dfeature.flag=on',
      KV_VALUE: 'key=value=more',
      SPACED_VALUE: 'padded value',
    });
  });
});

describe('compose/dotenv: format raw', () => {
  it('e2e TestRawEnvFile: values are taken literally, quotes included', () => {
    const text = readFileSync(join(CORPUS, 'e2e/testdata/TestRawEnvFile/.env.raw'), 'utf8');
    expect(Object.fromEntries(parseRawEnv(text))).toEqual({ TEST_VAR: `'{"key": "value"}'` });
  });

  it('skips comments, blank lines and lines without =', () => {
    expect(Object.fromEntries(parseRawEnv('# c\n\nA=$B #x\r\nNOVALUE\nC==d\n'))).toEqual({
      A: '$B #x',
      C: '=d',
    });
  });
});
