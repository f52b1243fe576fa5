/**
 * Log output like docker compose's: the Engine API's multiplexed stream decoded (8-byte frame
 * headers: stream type, 3 zero bytes, big-endian length), lines prefixed `web-1  | ` in a colour
 * per container. Pure transforms plus a line writer; no API calls.
 */

/** The colours docker compose cycles through for log prefixes (ANSI SGR codes). */
export const PREFIX_COLORS = [36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91] as const;

/** One decoded frame. */
export interface LogFrame {
  /** 1 stdout, 2 stderr (0 stdin). */
  readonly stream: number;
  readonly data: Buffer;
}

/**
 * Incremental decoder of the Engine API's multiplexed stdout/stderr stream (non-TTY containers;
 * API "Stream format" of attach/logs).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every complete frame. */
  push(chunk: Buffer): LogFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: LogFrame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      out.push({ stream: this.buf[0] ?? 1, data: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

/** Splits text into complete lines, keeping the partial tail for the next chunk. */
export class LineSplitter {
  private tail = '';

  /** Feeds text; returns complete lines without their `\n`. */
  push(text: string): string[] {
    const parts = (this.tail + text).split('\n');
    this.tail = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, ''));
  }

  /** The unterminated rest (at stream end). */
  flush(): string[] {
    const t = this.tail;
    this.tail = '';
    return t === '' ? [] : [t];
  }
}

/** How prefixes look. */
export interface PrefixOptions {
  /** Print no prefix (`--no-log-prefix`). */
  readonly noPrefix?: boolean;
  /** Colour the prefix. */
  readonly color?: boolean;
  /** Width the names are padded to (the longest name shown). */
  readonly width: number;
}

/**
 * The prefix of a log line: `web-1  | ` (name padded to `width`, then ` | `), coloured with the
 * container's colour when `color`.
 */
export function logPrefix(name: string, colorIndex: number, o: PrefixOptions): string {
  if (o.noPrefix === true) return '';
  const text = `${name.padEnd(o.width)}  | `;
  if (o.color !== true) return text;
  const c = PREFIX_COLORS[colorIndex % PREFIX_COLORS.length] ?? 36;
  return `\u001b[${c}m${text}\u001b[0m`;
}

/** The name compose shows for a container in logs: its name without `<project>-`. */
export function displayName(project: string, container: string): string {
  return container.startsWith(`${project}-`) ? container.slice(project.length + 1) : container;
}
