import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ComposeError,
  ERROR_CODES,
  TscError,
  UsageError,
  exitCodeFor,
  renderErrorChain,
} from '../../../base/errors';

describe('base/errors', () => {
  it('documents every error code in docs/errors.md, and nothing more', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(TSC_[A-Z_]+)`\s+\|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('renders a compose issue as file:line:col path: detail', () => {
    const e = ComposeError.at(
      'TSC_COMPOSE_INVALID',
      { file: 'compose.yaml', path: 'services.web.ports[0]', position: { line: 12, col: 7 } },
      'invalid port "x"',
    );
    expect(e.message).toBe('compose.yaml:12:7 services.web.ports[0]: invalid port "x"');
  });

  it('joins a chain of causes Go-style', () => {
    const inner = new TscError('TSC_NATIVE_SYSCALL', 'mount /srv on /data: ENOENT');
    const outer = new TscError('TSC_CHILD_SETUP', 'create container web-1', { cause: inner });
    expect(renderErrorChain(outer)).toBe('create container web-1: mount /srv on /data: ENOENT');
  });

  it('maps usage errors to exit 2, other expected errors to 1 and bugs to 70', () => {
    expect(exitCodeFor(new UsageError('unknown flag --x'))).toBe(2);
    expect(exitCodeFor(new TscError('TSC_COMPOSE_PARSE', 'x'))).toBe(1);
    expect(exitCodeFor(new RangeError('bug'))).toBe(70);
  });
});
