/**
 * Units the Compose model uses: byte sizes (docker `RAMInBytes`: `512m`, `1.5g`, binary
 * multiples) and Go durations (`time.ParseDuration` / `Duration.String`). Pure parsing and
 * formatting; callers turn `undefined` into their own errors.
 */

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1024 ** 5,
};

/**
 * Parses a byte size like docker's `units.RAMInBytes` (binary multiples, case-insensitive
 * suffix b/k/kb/m/mb/g/gb/t/tb/p/pb, decimals allowed): `"512m"` -> 536870912. Numbers pass
 * through (already bytes).
 * @returns bytes (integer, truncated), or undefined when the text is not a size
 */
export function parseBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const mult = BYTE_UNITS[(m[2] ?? '').toLowerCase()];
  if (mult === undefined) return undefined;
  return Math.trunc(Number(m[1]) * mult);
}

const NS_PER: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Parses a Go duration (`time.ParseDuration`: `1m30s`, `1.5h`, `500ms`, `-2s`, `0`).
 * @returns nanoseconds, or undefined when the text is not a Go duration or overflows int64 ns
 */
export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  // µs as U+00B5 (micro sign) or U+03BC (Greek mu), escaped: the CLI bundle stays ASCII
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (NS_PER[m[2] ?? ''] ?? 0);
    pos = re.lastIndex;
  }
  // Go durations are int64 nanoseconds: ParseDuration rejects anything larger
  if (total > 2 ** 63 - 1) return undefined;
  return sign * Math.round(total);
}

function trimFraction(int: number, frac: number, digits: number): string {
  if (frac === 0) return String(int);
  const f = String(frac).padStart(digits, '0').replace(/0+$/, '');
  return `${int}.${f}`;
}

/**
 * Formats nanoseconds like Go's `Duration.String()`: `1m30s`, `1h0m0s`, `1.5s`, `500ms`, `0s`.
 */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${trimFraction(Math.floor(u / 1e3), u % 1e3, 3)}µs`;
    else out = `${trimFraction(Math.floor(u / 1e6), u % 1e6, 6)}ms`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = `${trimFraction(Math.floor(u / 1e9), u % 1e9, 9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

/** Re-renders a duration given as text (or seconds as a number) in Go form; undefined if invalid. */
export function normalizeDuration(v: string | number): string | undefined {
  if (typeof v === 'number') return formatDuration(v * 1e9);
  const ns = parseDuration(v);
  return ns === undefined ? undefined : formatDuration(ns);
}
