/**
 * The env-file parser used for `.env`, `--env-file`, `env_file:` (format dotenv) and `label_file:`,
 * with compose-go's dotenv rules. Pure text in, ordered map out; never reads files or process.env.
 */
import { ComposeError } from '../base/errors.js';
import { substitute, type VariableLookup } from './interpolate.js';

const BOM = '\uFEFF';

/** compose-go `isSpace`: blanks that are not a line break. */
function isBlank(c: string | undefined): boolean {
  return (
    c === ' ' ||
    c === '\t' ||
    c === '\v' ||
    c === '\f' ||
    c === '\r' ||
    c === '\x85' ||
    c === '\xa0'
  );
}

function isKeyChar(c: string): boolean {
  return /^[\p{L}\p{N}_.\-[\]]$/u.test(c);
}

/**
 * Parses an env file with compose-go's dotenv rules (compose-go `dotenv/parser.go`):
 * - `KEY=value`, `KEY: value`, `export KEY=value`; blanks around the key and value are trimmed;
 *   keys may hold letters, digits, `_ . - [ ]`; a leading UTF-8 BOM is skipped;
 * - `#` starts a comment at the start of a line, or in an unquoted value after a space (` #`);
 * - single quotes are literal (only `\'` is unescaped) and may span lines;
 * - double quotes may span lines and unescape `\n \r \t \a \b \f \v \\ \" \$` and octal `\0nnn`;
 * - unquoted and double-quoted values expand `$VAR`/`${VAR...}` (full template syntax), looking
 *   first in `lookup`, then in the earlier lines of this file; `$$` (and `\$` in double quotes)
 *   is a literal `$`;
 * - a line with only `KEY` takes the value from `lookup`, and is left out when `lookup` has none.
 * Returns the variables in file order (a key set twice keeps its first place, last value).
 * @throws ComposeError `TSC_COMPOSE_ENV_FILE`: `<file>: line 7: key cannot contain a space`,
 *   `unexpected character "$" in variable name "lol$wut"`, `unterminated quoted value ...`.
 */
export function parseDotenv(
  text: string,
  file: string,
  lookup: VariableLookup = () => undefined,
  options: DotenvOptions = {},
): Map<string, string> {
  const src = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  const out = new Map<string, string>();
  const p = new Scanner(src, file);
  const resolve: VariableLookup = (name) => lookup(name) ?? out.get(name);

  for (;;) {
    if (!p.skipToStatement()) break;
    const line = p.line;
    const { key, inherited } = p.readKey();
    if (key.includes(' ')) throw p.fail(line, 'key cannot contain a space');
    if (inherited) {
      const v = lookup(key);
      if (v !== undefined) out.set(key, v);
      continue;
    }
    out.set(key, p.readValue(resolve));
  }
  if (options.skipDigitKeys) for (const k of out.keys()) if (/^\s*\d/.test(k)) out.delete(k);
  return out;
}

/** Options of {@link parseDotenv}. */
export interface DotenvOptions {
  /**
   * Leave out keys that start with a digit (`456 = ABC`), as compose-go's `dotenv.Read` does
   * (its `Parse`, used for `.env` and `env_file`, keeps them).
   */
  readonly skipDigitKeys?: boolean | undefined;
}

class Scanner {
  pos = 0;
  line = 1;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  fail(line: number, detail: string): ComposeError {
    return ComposeError.at(
      'TSC_COMPOSE_ENV_FILE',
      { file: this.file, path: '' },
      `line ${line}: ${detail}`,
    );
  }

  private advance(to: number): void {
    for (let i = this.pos; i < to; i++) if (this.src[i] === '\n') this.line++;
    this.pos = to;
  }

  /** Skips blank space and comment lines; false at end of input. */
  skipToStatement(): boolean {
    for (;;) {
      let i = this.pos;
      while (i < this.src.length && /\s/u.test(this.src[i] ?? '')) i++;
      this.advance(i);
      if (i >= this.src.length) return false;
      if (this.src[i] !== '#') return true;
      const nl = this.src.indexOf('\n', i);
      if (nl < 0) {
        this.advance(this.src.length);
        return false;
      }
      this.advance(nl);
    }
  }

  /** Reads `[export ]KEY` up to `=`, `:` or a line end (then the key is inherited). */
  readKey(): { key: string; inherited: boolean } {
    const src = this.src;
    let start = this.pos;
    const exp = /^export[ \t\v\f\r]+/.exec(src.slice(start, start + 64));
    if (exp) start += exp[0].length;
    let i = start;
    for (; i < src.length; i++) {
      const c = src[i] ?? '';
      if (isBlank(c)) continue;
      if (c === '=' || c === ':' || c === '\n') {
        const key = src.slice(start, i).replace(/\s+$/u, '');
        const inherited = c === '\n';
        this.advance(i + 1);
        if (!inherited) this.skipBlanks();
        return { key, inherited };
      }
      if (!isKeyChar(c)) {
        const lineEnd = src.indexOf('\n', start);
        const text = src.slice(start, lineEnd < 0 ? src.length : lineEnd);
        throw this.fail(
          this.line,
          `unexpected character ${JSON.stringify(c)} in variable name ${JSON.stringify(text)}`,
        );
      }
    }
    // A last line with only a key and no line break: inherited.
    const key = src.slice(start).replace(/\s+$/u, '');
    this.advance(src.length);
    return { key, inherited: true };
  }

  private skipBlanks(): void {
    let i = this.pos;
    while (i < this.src.length && isBlank(this.src[i])) i++;
    this.pos = i;
  }

  readValue(resolve: VariableLookup): string {
    const src = this.src;
    const quote = src[this.pos];
    const line = this.line;
    if (quote !== '"' && quote !== "'") {
      let end = src.indexOf('\n', this.pos);
      if (end < 0) end = src.length;
      let raw = src.slice(this.pos, end);
      const comment = raw.indexOf(' #');
      if (comment >= 0) raw = raw.slice(0, comment);
      raw = raw.replace(/\s+$/u, '');
      this.advance(end);
      return this.expand(raw, resolve, line);
    }
    // Find the closing quote; a backslash escapes the next character.
    let i = this.pos + 1;
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === quote) break;
    }
    if (i >= src.length) {
      const lineEnd = src.indexOf('\n', this.pos);
      const shown = src.slice(this.pos, lineEnd < 0 ? src.length : lineEnd);
      throw this.fail(line, `unterminated quoted value ${shown}`);
    }
    const inner = src.slice(this.pos + 1, i);
    this.advance(i + 1);
    if (quote === "'") return inner.replace(/\\'/g, "'");
    return this.expand(unescapeDoubleQuoted(inner), resolve, line);
  }

  /** Expands variables with the template language (`$$` is a literal `$`). */
  private expand(value: string, resolve: VariableLookup, line: number): string {
    if (!value.includes('$')) return value;
    try {
      return substitute(value, resolve);
    } catch (e) {
      if (e instanceof ComposeError) throw this.fail(line, e.issues[0]?.detail ?? e.message);
      throw e;
    }
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  '"': '"',
  // `\$` becomes the template escape `$$`, so it ends as a literal `$` after expansion.
  $: '$$',
};

/**
 * Unescapes a double-quoted value like compose-go `expandEscapes`: `\a \b \f \n \r \t \v \\ \" \$`
 * and octal `\0nnn`; any other escape (`\x07`, `\u12e4`, `\'`, `\ `) is kept as written.
 */
function unescapeDoubleQuoted(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(0[0-7]{3}|[\s\S])/g, (all, what: string) => {
    if (what.length > 1) return String.fromCharCode(Number.parseInt(what.slice(1), 8));
    return SIMPLE_ESCAPES[what] ?? all;
  });
}

/**
 * Parses an env file declared with `format: raw` (docker compose's raw env-file format): each
 * line is `KEY=VALUE` split at the first `=`, taken literally (no quote removal, no escapes, no
 * interpolation, no inline comments). Lines without `=`, blank lines and lines starting with `#`
 * are skipped; a trailing `\r` is dropped. Returns the variables in file order.
 */
export function parseRawEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const src = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  for (const rawLine of src.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
