/**
 * The one error hierarchy of tscompose. Core code throws; the CLI renders (cli/render/error.ts).
 * Every expected failure is a TscError with a stable `code`; anything else reaching the CLI is a bug.
 * docs/errors.md lists every code (test/unit/base/errors.test.ts keeps the two in step).
 */

/** Stable error codes, `TSC_<AREA>_<WHAT>`. Add here and in docs/errors.md together. */
export const ERROR_CODES = [
  'TSC_USAGE',
  'TSC_COMPOSE_NOT_FOUND',
  'TSC_COMPOSE_READ',
  'TSC_COMPOSE_PARSE',
  'TSC_COMPOSE_INTERPOLATE',
  'TSC_COMPOSE_ENV_FILE',
  'TSC_COMPOSE_INVALID',
  'TSC_COMPOSE_EXTENDS',
  'TSC_COMPOSE_INCLUDE',
  'TSC_COMPOSE_CYCLE',
  'TSC_COMPOSE_REFERENCE',
  'TSC_COMPOSE_PROJECT_NAME',
  'TSC_COMPOSE_DEPENDENCY',
  'TSC_IMAGE_REFERENCE',
  'TSC_IMAGE_PULL',
  'TSC_IMAGE_DIGEST',
  'TSC_IMAGE_UNPACK',
  'TSC_IMAGE_NOT_FOUND',
  'TSC_ENGINE_CONFLICT',
  'TSC_ENGINE_NOT_FOUND',
  'TSC_ENGINE_STATE',
  'TSC_ENGINE_UNAVAILABLE',
  'TSC_ENGINE_INVALID',
  'TSC_ENGINE_UNSUPPORTED',
  'TSC_NATIVE_SYSCALL',
  'TSC_NATIVE_ABI',
  'TSC_NATIVE_LOAD',
  'TSC_CHILD_SETUP',
  'TSC_CGROUP',
  'TSC_NETWORK',
  'TSC_HOST_UNSUPPORTED',
  'TSC_BUILD',
] as const;

/** One of {@link ERROR_CODES}. Branch on this, never on message text. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options common to every TscError. */
export interface TscErrorOptions {
  /** What the user can do about it, one line, lowercase (`escape "$" as "$$"`). */
  readonly hint?: string | undefined;
  /** The underlying failure (ES2022 `cause`); rendered after the message, `: `-joined. */
  readonly cause?: unknown;
}

/**
 * Every expected failure. Messages start with the operation and the object, lowercase, no final
 * period (`create container web-1: mount /srv on /data: ENOENT`).
 */
export class TscError extends Error {
  /** A hint for the user, or undefined. */
  readonly hint: string | undefined;
  /** Failures of cleanup that ran after this error; they never replace it. */
  readonly cleanupErrors: unknown[] = [];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: TscErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad command-line usage: unknown flag, missing argument. Exit code 2. */
export class UsageError extends TscError {
  constructor(message: string, options: TscErrorOptions = {}) {
    super('TSC_USAGE', message, options);
  }
}

/** A position in a source file: 1-based line and column. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** Where a compose error is: the file, and where known the key path and the position. */
export interface ComposeLocation {
  /** The file as the user named it (relative to the working directory when inside it). */
  readonly file: string;
  /** The key path in spec form (`services.web.ports[0]`), or '' for the whole file. */
  readonly path: string;
  /** The position of the offending node, when the source is known. */
  readonly position?: SourcePosition | undefined;
}

/** Renders `file:line:col path` (or the parts that are known). */
export function renderLocation(at: ComposeLocation): string {
  const where = at.position ? `${at.file}:${at.position.line}:${at.position.col}` : at.file;
  return at.path ? `${where} ${at.path}` : where;
}

/**
 * A fault in the compose input: `compose.yaml:12:7 services.web.ports[0]: invalid port ...`.
 * Exit code 1. `issues` holds every problem when several were found in one pass (they are sorted
 * by file, then position, then path; the message lists them all).
 */
export class ComposeError extends TscError {
  /** Every location+detail of this error; the first is the primary one. */
  readonly issues: readonly ComposeIssue[];

  constructor(code: ErrorCode, issues: readonly ComposeIssue[], options: TscErrorOptions = {}) {
    super(code, issues.map(renderIssue).join('\n'), options);
    this.issues = issues;
  }

  /** One issue at one location. */
  static at(
    code: ErrorCode,
    at: ComposeLocation,
    detail: string,
    options: TscErrorOptions = {},
  ): ComposeError {
    return new ComposeError(code, [{ ...at, detail }], options);
  }
}

/** One problem found in a compose file. */
export interface ComposeIssue extends ComposeLocation {
  /** What is wrong, lowercase (`must be a string`). */
  readonly detail: string;
}

/**
 * `file:line:col path: detail`; when the detail already starts with the key path (compose-go's
 * own wording, `services.web.environment must be a mapping`), `file:line:col detail`.
 */
export function renderIssue(issue: ComposeIssue): string {
  const dotted = issue.path.replace(/\[(\d+)\]/g, '.$1');
  if (
    issue.path !== '' &&
    (issue.detail.startsWith(`${dotted} `) || issue.detail.startsWith(`${issue.path} `))
  ) {
    return `${renderLocation({ ...issue, path: '' })} ${issue.detail}`;
  }
  return `${renderLocation(issue)}: ${issue.detail}`;
}

/** Failures in the engine layer about a named resource (container, network, volume, image). */
export class EngineError extends TscError {
  constructor(
    code: ErrorCode,
    readonly resource: { readonly kind: string; readonly name: string },
    message: string,
    options: TscErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** A failed system call, shaped like Node's SystemError (`code` is the errno name). */
export class NativeError extends TscError {
  constructor(
    readonly syscall: string,
    readonly errno: string,
    readonly path: string | undefined,
    message: string,
    options: TscErrorOptions = {},
  ) {
    super('TSC_NATIVE_SYSCALL', message, options);
  }
}

/** True for any TscError (also across realms, by duck type on `code`). */
export function isTscError(e: unknown): e is TscError {
  return e instanceof TscError;
}

/**
 * The full text of an error chain: the message, then each TscError cause joined with `: `
 * (Go `%w` style). Non-TscError causes are appended by their message.
 */
export function renderErrorChain(e: TscError): string {
  let text = e.message;
  let cause: unknown = e.cause;
  const seen = new Set<unknown>([e]);
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    if (cause instanceof Error) {
      if (!text.includes(cause.message)) text += `: ${cause.message}`;
      cause = cause.cause;
    } else {
      text += `: ${typeof cause === 'string' ? cause : JSON.stringify(cause)}`;
      break;
    }
  }
  return text;
}

/** Process exit code for an error, as docker compose gives them: 2 usage, 1 otherwise, 70 bugs. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return 2;
  if (e instanceof TscError) return 1;
  return 70;
}
