// The CLI against each backend (a private dockerd and our engine, test/e2e/cli/backends.ts), same
// scenario and assertions: a busybox stack with depends_on service_healthy, a published port, a named
// volume that survives down + up and goes with down -v; up twice changes nothing; editing one service
// recreates only it; run --rm, exec, ps, logs, port; nothing of the project or the daemon left after.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from 'node:http';

import { requireHost } from '../../helpers/host';
import { ROOT } from '../../helpers/paths';
import { BACKENDS, hostState, type Backend, type BackendKind, type HostState } from './backends';
import { freePort } from '../../helpers/registry';

const CLI = join(ROOT, 'dist', 'cli', 'tscompose.js');
const PROJECT = 'tsc-test-e2e';

const runnable = (kind: BackendKind): boolean =>
  requireHost({ root: true, packages: [...kind.packages, 'iptables'] });

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function compose(webEnv: string): string {
  return `name: ${PROJECT}
services:
  db:
    image: busybox:1.36
    command: ["sh", "-c", "echo db-up; touch /data/ready; exec sleep 3600"]
    volumes: [data:/data]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      retries: 30
  web:
    image: busybox:1.36
    command: ["httpd", "-f", "-p", "8080", "-h", "/data"]
    environment:
      MODE: ${webEnv}
    ports: ["127.0.0.1:\${WEB_PORT}:8080"]
    volumes: [data:/data]
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_healthy
volumes:
  data: {}
`;
}

describe.each(BACKENDS.map((kind) => ({ kind, name: kind.name })))(
  'tscompose against $name',
  ({ kind }) => {
    if (!runnable(kind)) {
      it.skip('needs root and the backend packages', () => undefined);
      return;
    }
    let d: Backend | undefined;
    let hostBefore: HostState;
    let dir: string;
    let port: number;

    const backend = (): Backend => {
      if (!d) throw new Error(`${kind.name} did not start`);
      return d;
    };
    const tsc = (...args: string[]): { rc: number; out: string; err: string } => {
      const r = spawnSync(process.execPath, [CLI, '--progress', 'plain', ...args], {
        cwd: dir,
        env: { ...process.env, DOCKER_HOST: backend().host, WEB_PORT: String(port) },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
      return { rc: r.status ?? -1, out: r.stdout, err: r.stderr };
    };
    /** `tsc` with `input` on its stdin (a pipe). */
    const tscIn = (input: string, ...args: string[]): { rc: number; out: string; err: string } => {
      const r = spawnSync(process.execPath, [CLI, '--progress', 'plain', ...args], {
        cwd: dir,
        env: { ...process.env, DOCKER_HOST: backend().host, WEB_PORT: String(port) },
        encoding: 'utf8',
        input,
        timeout: 120_000,
      });
      return { rc: r.status ?? -1, out: r.stdout, err: r.stderr };
    };
    const ps = (
      ...args: string[]
    ): { Name: string; Service: string; State: string; Health: string; ID: string }[] => {
      const r = tsc('ps', '--format', 'json', ...args);
      expect(r.rc).toBe(0);
      return r.out
        .split('\n')
        .filter((l) => l !== '')
        .map(
          (l) =>
            JSON.parse(l) as {
              Name: string;
              Service: string;
              State: string;
              Health: string;
              ID: string;
            },
        );
    };
    const ids = (): Record<string, string> =>
      Object.fromEntries(ps('-a').map((c) => [c.Service, c.ID]));

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
      dir = mkdtempSync('/tmp/tsc-test-stack-');
      port = await freePort();
      writeFileSync(join(dir, 'compose.yaml'), compose('one'));
    }, 180_000);

    afterAll(async () => {
      if (d) {
        tsc('down', '-v', '--remove-orphans', '-t', '0');
        await d.stop();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it('up -d must start db, wait until it is healthy, then start web', () => {
      const r = tsc('up', '-d');
      expect(r.err).toContain(`Container ${PROJECT}-db-1  Healthy`);
      expect(r.rc).toBe(0);
      expect(r.err).toContain(`Network ${PROJECT}_default  Created`);
      expect(r.err).toContain(`Volume ${PROJECT}_data  Created`);
      const started = r.err.indexOf(`Container ${PROJECT}-web-1  Started`);
      expect(started).toBeGreaterThan(r.err.indexOf(`Container ${PROJECT}-db-1  Healthy`));
      const list = ps();
      expect(list.map((c) => [c.Name, c.State, c.Health])).toEqual([
        [`${PROJECT}-db-1`, 'running', 'healthy'],
        [`${PROJECT}-web-1`, 'running', ''],
      ]);
    }, 120_000);

    it('port must print the published address and it must serve the volume', async () => {
      const r = tsc('port', 'web', '8080');
      expect(r).toMatchObject({ rc: 0, out: `127.0.0.1:${port}\n` });
      expect(tsc('port', 'web', '9999').rc).toBe(1);
      expect(await httpGet(`http://127.0.0.1:${port}/ready`)).toBe('');
    });

    it('up -d a second time must change nothing', () => {
      const before = ids();
      const r = tsc('up', '-d');
      expect(r.rc).toBe(0);
      expect(r.err).not.toMatch(/Created|Started|Recreate/);
      expect(r.err).toContain(`Container ${PROJECT}-web-1  Running`);
      expect(ids()).toEqual(before);
    }, 60_000);

    it('exec -T passes piped stdin through as is (no request bytes before it)', () => {
      const cat = tscIn('piped\n', 'exec', '-T', 'web', 'cat');
      expect(cat.err).toBe('');
      expect(cat.out).toBe('piped\n');
      expect(tscIn('123456789', 'exec', '-T', 'web', 'wc', '-c').out.trim()).toBe('9');
    });

    it('exec must run in the container and pass its exit code through', () => {
      const w = tsc('exec', '-T', 'web', 'sh', '-c', 'echo kept > /data/marker; echo done');
      expect(w).toMatchObject({ rc: 0, out: 'done\n' });
      expect(tsc('exec', '-T', 'web', 'sh', '-c', 'exit 3').rc).toBe(3);
    });

    it('run --rm must print the command output and leave no one-off container', () => {
      const r = tsc('run', '--rm', 'web', 'cat', '/data/marker');
      expect(r).toMatchObject({ rc: 0, out: 'kept\n' });
      expect(ps('-a').map((c) => c.Name)).toEqual([`${PROJECT}-db-1`, `${PROJECT}-web-1`]);
      const code = tsc('run', '--rm', '--no-deps', 'web', 'sh', '-c', 'exit 4');
      expect(code.rc).toBe(4);
      // piped input reaches the one-off container's stdin, which ends with the input (StdinOnce)
      const piped = tscIn('one\ntwo\n', 'run', '--rm', '-T', '--no-deps', 'web', 'cat');
      expect(piped).toMatchObject({ rc: 0, out: 'one\ntwo\n' });
    }, 60_000);

    it('up must refuse a missing external network before creating anything', () => {
      const project = `${PROJECT}-ext`;
      writeFileSync(
        join(dir, 'ext.yaml'),
        `services:
  a:
    image: busybox:1.36
    command: ["sleep", "3600"]
    networks: [outside]
networks:
  outside:
    external: true
    name: tsc-test-no-such-net
`,
      );
      const f = ['-p', project, '-f', join(dir, 'ext.yaml')];
      const r = tsc(...f, 'up', '-d');
      expect(r.rc).toBe(1);
      expect(r.err).toContain(
        'network tsc-test-no-such-net declared as external, but could not be found',
      );
      expect(r.err).not.toContain('Created');
      expect(tsc(...f, 'ps', '-a', '-q').out).toBe('');
    }, 60_000);

    it('logs must show the output of the selected service', () => {
      expect(tsc('logs', '--no-log-prefix', 'db').out).toBe('db-up\n');
      expect(tsc('logs', '--no-color', 'db').out).toBe('db-1  | db-up\n');
    });

    it('editing one service must recreate only it', () => {
      const before = ids();
      writeFileSync(join(dir, 'compose.yaml'), compose('two'));
      const r = tsc('up', '-d');
      expect(r.rc).toBe(0);
      const after = ids();
      expect(after['db']).toBe(before['db']);
      expect(after['web']).not.toBe(before['web']);
      expect(tsc('exec', '-T', 'web', 'sh', '-c', 'echo $MODE').out).toBe('two\n');
    }, 60_000);

    it("rm -s -f SERVICE must stop and remove only that service's container", () => {
      const before = ids();
      const r = tsc('rm', '-s', '-f', 'web');
      expect(r.rc).toBe(0);
      expect(r.err).toContain(`Container ${PROJECT}-web-1  Stopped`);
      expect(r.err).toContain(`Container ${PROJECT}-web-1  Removed`);
      expect(ps('-a').map((c) => c.ID)).toEqual([before['db']]);
      expect(tsc('up', '-d').rc).toBe(0);
      expect(ids()['db']).toBe(before['db']);
    }, 120_000);

    it('up --abort-on-container-exit --exit-code-from must return that exit code and stop the rest', () => {
      const project = `${PROJECT}-abort`;
      writeFileSync(
        join(dir, 'abort.yaml'),
        `services:
  quits:
    image: busybox:1.36
    command: ["sh", "-c", "echo bye; sleep 1; echo last; exit 3"]
  stays:
    image: busybox:1.36
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
`,
      );
      const f = ['-p', project, '-f', join(dir, 'abort.yaml')];
      try {
        const r = tsc(...f, 'up', '--abort-on-container-exit', '--exit-code-from', 'quits');
        expect(r.rc).toBe(3);
        expect(r.out).toContain('quits-1  | bye');
        expect(r.out).toContain('\nquits-1 exited with code 3\n');
        // the line printed just before the exit comes before the exit notice, as docker compose's
        expect(r.out.indexOf('quits-1  | last')).toBeGreaterThan(0);
        expect(r.out.indexOf('quits-1  | last')).toBeLessThan(
          r.out.indexOf('quits-1 exited with code 3'),
        );
        expect(r.err).toContain('Aborting on container exit...');
        const states = tsc(...f, 'ps', '-a', '--format', '{{.Service}} {{.State}}').out;
        expect(
          states
            .split('\n')
            .filter((l) => l !== '')
            .sort(),
        ).toEqual(['quits exited', 'stays exited']);
      } finally {
        expect(tsc(...f, 'down', '-t', '0').rc).toBe(0);
      }
    }, 120_000);

    /**
     * Spawns `up` with `upArgs` on a project whose db never becomes healthy and whose web waits for
     * it, sends SIGINT once db runs and up waits for it; resolves the exit (code or signal), stderr
     * and the services' states after.
     */
    const interruptUp = async (
      project: string,
      progress: string,
      ...upArgs: string[]
    ): Promise<{ exit: number | string; err: string; after: string }> => {
      const file = join(dir, 'sigint.yaml');
      writeFileSync(
        file,
        `services:
  db:
    image: busybox:1.36
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 100
  web:
    image: busybox:1.36
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_healthy
`,
      );
      const f = ['-p', project, '-f', file];
      const state = (): string =>
        tsc(...f, 'ps', '-a', '--format', '{{.Service}} {{.State}}')
          .out.split('\n')
          .filter((l) => l !== '')
          .sort()
          .join(', ');
      const child = spawn(process.execPath, [CLI, '--progress', progress, ...f, 'up', ...upArgs], {
        cwd: dir,
        env: { ...process.env, DOCKER_HOST: backend().host },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.stdout.resume();
      const exited = new Promise<number | string>((resolve) =>
        child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
      );
      try {
        // up is waiting for db to become healthy (it never does): db runs, web is not started
        const waiting = (): boolean =>
          state().includes('db running') && err.includes(`${project}-db-1  Waiting`);
        for (let i = 0; i < 150 && child.exitCode === null && !waiting(); i++) {
          await new Promise((r) => setTimeout(r, 300));
        }
        expect(err).toContain(`Container ${project}-db-1  Waiting`);
        child.kill('SIGINT');
        const exit = await exited;
        return { exit, err, after: state() };
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        expect(tsc(...f, 'down', '-t', '0').rc).toBe(0);
      }
    };

    it('Ctrl-C during an attached up waiting for a dependency must stop gracefully with 130', async () => {
      const r = await interruptUp(`${PROJECT}-sigint`, 'plain');
      expect(r.exit).toBe(130);
      expect(r.err).toContain('Gracefully stopping... (press Ctrl+C again to force)');
      expect(r.err).not.toContain('interrupted');
      expect(r.err).not.toContain('is unhealthy');
      expect(r.after).toContain('db exited');
      expect(r.after).not.toContain('running');
    }, 120_000);

    it('with the live (tty) progress display, the notice must come after the display', async () => {
      const r = await interruptUp(`${PROJECT}-sigint-tty`, 'tty');
      expect(r.exit).toBe(130);
      const at = r.err.lastIndexOf('Gracefully stopping... (press Ctrl+C again to force)');
      expect(at).toBeGreaterThan(r.err.lastIndexOf(`${PROJECT}-sigint-tty-db-1  Waiting`));
      expect(r.after).toContain('db exited');
    }, 120_000);

    it('Ctrl-C during up -d waiting for a dependency must exit 130 and stop nothing', async () => {
      const r = await interruptUp(`${PROJECT}-sigint-d`, 'plain', '-d');
      expect(r.exit).toBe(130);
      expect(r.err).not.toContain('Gracefully stopping');
      expect(r.err).not.toContain('interrupted');
      expect(r.after).toContain('db running');
      expect(r.after).not.toContain('web running');
    }, 120_000);

    it('kill must spare orphans unless --remove-orphans is given', () => {
      const project = `${PROJECT}-kill`;
      const file = join(dir, 'kill.yaml');
      const svc = (n: string): string =>
        `  ${n}:\n    image: busybox:1.36\n    command: ["sleep", "3600"]\n`;
      const f = ['-p', project, '-f', file];
      const state = (name: string): string =>
        backend()
          .docker(['inspect', '-f', '{{.State.Status}}', `${project}-${name}-1`])
          .trim();
      try {
        writeFileSync(file, `services:\n${svc('kept')}${svc('gone')}`);
        expect(tsc(...f, 'up', '-d').rc).toBe(0);
        writeFileSync(file, `services:\n${svc('kept')}`);
        expect(tsc(...f, 'kill').rc).toBe(0);
        expect([state('kept'), state('gone')]).toEqual(['exited', 'running']);
        expect(tsc(...f, 'kill', '--remove-orphans').rc).toBe(0);
        expect(state('gone')).toBe('exited');
      } finally {
        expect(tsc(...f, 'down', '--remove-orphans', '-t', '0').rc).toBe(0);
      }
    }, 120_000);

    it('down SERVICE must remove only the containers of that service', () => {
      const before = ids();
      expect(tsc('down', 'web').rc).toBe(0);
      expect(ps('-a').map((c) => c.ID)).toEqual([before['db']]);
      expect(backend().docker(['network', 'ls', '--format', '{{.Name}}'])).toContain(
        `${PROJECT}_default`,
      );
      expect(tsc('up', '-d').rc).toBe(0);
      expect(ids()['db']).toBe(before['db']);
    }, 120_000);

    it('down must remove containers and network but keep the volume, whose data up brings back', () => {
      const r = tsc('down');
      expect(r.rc).toBe(0);
      expect(tsc('ps', '-a', '-q').out).toBe('');
      expect(backend().docker(['volume', 'ls', '-q'])).toContain(`${PROJECT}_data`);
      expect(backend().docker(['network', 'ls', '--format', '{{.Name}}'])).not.toContain(
        `${PROJECT}_default`,
      );
      expect(tsc('up', '-d').rc).toBe(0);
      expect(tsc('exec', '-T', 'web', 'cat', '/data/marker').out).toBe('kept\n');
    }, 120_000);

    it('down -v must leave nothing of the project', () => {
      const r = tsc('down', '-v');
      expect(r.rc).toBe(0);
      expect(r.err).toContain(`Volume ${PROJECT}_data  Removed`);
      const label = `label=com.docker.compose.project=${PROJECT}`;
      expect(backend().docker(['ps', '-a', '-q', '--filter', label])).toBe('');
      expect(backend().docker(['volume', 'ls', '-q', '--filter', label])).toBe('');
      expect(backend().docker(['network', 'ls', '-q', '--filter', label])).toBe('');
    }, 60_000);

    it('stopping the daemon must give the host back as it was', async () => {
      const b = backend();
      d = undefined;
      await b.stop();
      expect(existsSync(b.host.slice('unix://'.length))).toBe(false);
      expect(hostState()).toEqual(hostBefore);
    }, 120_000);
  },
);
