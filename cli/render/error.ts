/**
 * Turns any thrown value into the text the user sees and the exit code (docs/errors.md):
 * `error[CODE]: message` then `hint: ...`; anything that is not a TscError is a bug (exit 70).
 */
import { exitCodeFor, isTscError, renderErrorChain } from '../../base/errors.js';

/** The rendered error text (no trailing newline) and the process exit code. */
export function renderError(e: unknown): { readonly text: string; readonly exitCode: number } {
  if (isTscError(e)) {
    const lines = [`error[${e.code}]: ${renderErrorChain(e)}`];
    if (e.hint) lines.push(`hint: ${e.hint}`);
    for (const c of e.cleanupErrors) {
      lines.push(`cleanup also failed: ${c instanceof Error ? c.message : String(c)}`);
    }
    return { text: lines.join('\n'), exitCode: exitCodeFor(e) };
  }
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return { text: `internal error (please report): ${stack}`, exitCode: exitCodeFor(e) };
}
