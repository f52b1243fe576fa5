/**
 * Output formatting shared by the listing commands (ps, images, ls, top, port): aligned tables like
 * the docker CLI's tabwriter, a subset of Go templates for `--format`, ports and durations the way
 * docker prints them. Pure functions of their inputs; no I/O.
 */
import { UsageError } from '../../base/errors.js';

/**
 * A table like the docker CLI's (tabwriter, padding 3): header row, then rows; every column but the
 * last padded to its widest cell + 3 spaces. Returns '' + header when there are no rows.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
        .join('')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}

/** Replaces the docker CLI's escapes in a `--format` string (`\t`, `\n`). */
function unescapeFormat(f: string): string {
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function lookup(obj: unknown, path: string): unknown {
  if (path === '.') return obj;
  let cur: unknown = obj;
  for (const k of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  return `map[${Object.entries(v as Record<string, unknown>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, x]) => `${k}:${show(x)}`)
    .join(' ')}]`;
}

/**
 * Renders one object through a Go-template subset: `{{.Field}}`, `{{.A.B}}`, `{{json .}}`,
 * `{{json .Field}}`, `{{upper .F}}`, `{{lower .F}}`, with `\t` and `\n` escapes (docker CLI).
 * @throws UsageError for any other action
 */
export function renderTemplate(format: string, obj: unknown): string {
  return unescapeFormat(format).replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (_m, action: string) => {
    const parts = action.split(/\s+/).filter((p) => p !== '');
    const [a, b] = parts;
    if (parts.length === 1 && a !== undefined && a.startsWith('.')) return show(lookup(obj, a));
    if (parts.length === 2 && b !== undefined && b.startsWith('.')) {
      const v = lookup(obj, b);
      if (a === 'json') return JSON.stringify(v ?? null);
      if (a === 'upper') return show(v).toUpperCase();
      if (a === 'lower') return show(v).toLowerCase();
    }
    throw new UsageError(`template: unsupported action {{${action}}}`, {
      hint: 'supported: {{.Field}}, {{json .}}, {{json .Field}}, {{upper .F}}, {{lower .F}}',
    });
  });
}

/**
 * Formats rows for `--format`: `table` (the default columns), `json` (one object per line),
 * `table <template>` (a table whose header is the template's field names), or a template
 * (one line per row).
 */
export function formatRows<T extends object>(
  format: string,
  rows: readonly T[],
  table: { readonly headers: readonly string[]; readonly cells: (r: T) => string[] },
): string {
  const f = format.trim();
  if (f === '' || f === 'table') return renderTable(table.headers, rows.map(table.cells));
  if (f === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (f.startsWith('table ')) {
    const tpl = f.slice('table '.length).trim();
    const header = unescapeFormat(tpl)
      .replace(/\{\{-?\s*(?:\w+\s+)?\.?([\w.]*)\s*-?\}\}/g, (_m, k: string) =>
        headerName(k === '' ? '.' : k),
      )
      .split('\t');
    return renderTable(
      header,
      rows.map((r) => renderTemplate(tpl, r).split('\t')),
    );
  }
  return rows.map((r) => `${renderTemplate(f, r)}\n`).join('');
}

/** Header text for a field in a `table` template: `RunningFor` -> `RUNNING FOR` (docker CLI). */
export function headerName(field: string): string {
  const special: Record<string, string> = {
    ID: 'CONTAINER ID',
    RunningFor: 'CREATED',
    CreatedAt: 'CREATED AT',
  };
  const last = field.split('.').pop() ?? field;
  return special[last] ?? last.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** A port as the Engine API lists it (`GET /containers/json` `Ports`). */
export interface ApiPort {
  readonly IP?: string | undefined;
  readonly PrivatePort: number;
  readonly PublicPort?: number | undefined;
  readonly Type: string;
}

/**
 * docker's PORTS column: `0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 9000/tcp`, sorted by private
 * port then family, duplicates dropped.
 */
export function formatPorts(ports: readonly ApiPort[]): string {
  const v6 = (p: ApiPort): number => ((p.IP ?? '').includes(':') ? 1 : 0);
  const sorted = [...ports].sort(
    (a, b) => a.PrivatePort - b.PrivatePort || a.Type.localeCompare(b.Type) || v6(a) - v6(b),
  );
  const out: string[] = [];
  for (const p of sorted) {
    let s: string;
    if (p.PublicPort === undefined || p.PublicPort === 0) s = `${p.PrivatePort}/${p.Type}`;
    else {
      const ip = p.IP ?? '';
      const host = ip.includes(':') ? `[${ip}]` : ip;
      s = `${host}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    }
    if (!out.includes(s)) out.push(s);
  }
  return out.join(', ');
}

/** Durations as docker prints them (base/human-duration.ts, shared with the engine). */
export { humanDuration } from '../../base/human-duration.js';

/** Bytes as the docker CLI prints sizes (decimal units, 3 significant digits): `4.26MB`. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}
