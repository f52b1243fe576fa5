// The reported-problem cases that run containers (shared/cases 021-037), with tscompose pointed at
// each backend (a private dockerd and our engine, test/e2e/cli/backends.ts): the cases' expected
// outcomes on both, through their check.sh (TSC, DOCKER_HOST, ENGINE_HOST, DOCKER).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { requireHost } from '../../helpers/host';
import { CASES, ROOT } from '../../helpers/paths';
import { BACKENDS, hostState, type Backend, type BackendKind, type HostState } from './backends';

const CLI = join(ROOT, 'dist', 'cli', 'tscompose.js');
const RUNTIME_CASES = [
  '021-completed-successfully-dependency-fails',
  '023-up-wait-with-oneshot',
  '025-network-alias-dns',
  '027-service-and-container-name-dns',
  '029-dns-opt-and-search-in-resolv-conf',
  '030-deploy-memory-limit-applied',
  '033-stop-grace-period-honoured',
  '035-stop-signal-used',
  '037-run-ignores-container-name',
];

const runnable = (kind: BackendKind): boolean =>
  requireHost({ root: true, packages: [...kind.packages, 'jq', 'iptables'] });

describe.each(BACKENDS.map((kind) => ({ kind, name: kind.name })))(
  'runtime cases against $name',
  ({ kind }) => {
    if (!runnable(kind)) {
      it.skip('needs root and the backend packages', () => undefined);
      return;
    }
    let d: Backend | undefined;
    let dir: string;
    let hostBefore: HostState;

    beforeAll(async () => {
      if (!existsSync(CLI)) {
        const built = spawnSync('npm', ['run', 'build'], {
          cwd: ROOT,
          stdio: 'inherit',
        });
        if (built.status !== 0) throw new Error(`build failed: exit ${String(built.status)}`);
      }
      hostBefore = hostState();
      d = await kind.start();
      dir = mkdtempSync('/tmp/tsc-test-cases-');
      cpSync(CASES, join(dir, 'cases'), { recursive: true });
    }, 180_000);

    afterAll(async () => {
      if (d) await d.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it.each(RUNTIME_CASES)(
      'case %s must pass',
      (name) => {
        if (!d) throw new Error(`${kind.name} did not start`);
        const r = spawnSync('bash', [join(dir, 'cases', name, 'check.sh')], {
          env: {
            ...process.env,
            TSC: `${process.execPath} ${CLI}`,
            DOCKER_HOST: d.host,
            ENGINE_HOST: d.host,
            DOCKER: d.dockerBin,
          },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 600_000,
        });
        const lines = r.stdout.trim().split('\n');
        const failed = lines.filter((l) => l.startsWith('not ok'));
        expect({ failed, summary: lines[lines.length - 1] }).toEqual({
          failed: [],
          summary: expect.stringMatching(/^[1-9]\d* passed, 0 failed$/) as unknown,
        });
        expect(r.status).toBe(0);
      },
      600_000,
    );

    it('stopping the daemon must give the host back as it was', async () => {
      if (!d) throw new Error(`${kind.name} did not start`);
      const b = d;
      d = undefined;
      await b.stop();
      expect(hostState()).toEqual(hostBefore);
    }, 120_000);
  },
);
