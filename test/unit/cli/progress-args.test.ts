// Progress renderers (plain, json, quiet, mode choice), log framing, and the commands' flag parsing.
import { Writable } from 'node:stream';

import { asEngineError, chosenHost, parseDockerHost } from '../../../cli/client';
import { parseCopyEndpoint } from '../../../cli/commands/cp';
import { envEntries } from '../../../cli/commands/exec';
import { apiTime } from '../../../cli/commands/logs';
import { statusFilter } from '../../../cli/commands/ps';
import { oneOffBody, parsePublish, withoutService } from '../../../cli/commands/run';
import { parseScale, upOptions } from '../../../cli/commands/up';
import { buildProgram } from '../../../cli/main';
import { FrameDecoder, LineSplitter, displayName, logPrefix } from '../../../cli/render/logs';
import {
  jsonDisplay,
  nodeLines,
  plainDisplay,
  progressMode,
  quietDisplay,
  taskTitle,
} from '../../../cli/render/progress';
import type { PlanNode, ProgressEvent } from '../../../compose/orchestrator/index';

function sink(): { out: Writable; text: () => string } {
  let s = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      s += chunk.toString();
      cb();
    },
  });
  return { out, text: () => s };
}

const events: ProgressEvent[] = [
  { node: 1, kind: 'Network', resource: 'demo_default', status: 'Creating', ms: 0 },
  { node: 1, kind: 'Network', resource: 'demo_default', status: 'Created', ms: 42 },
  {
    node: 2,
    kind: 'Container',
    resource: 'demo-web-1',
    status: 'Error',
    ms: 1250,
    error: 'start container demo-web-1: boom',
  },
];

describe('progress', () => {
  it('chooses tty on a terminal and plain otherwise for auto', () => {
    expect(progressMode('auto', true)).toBe('tty');
    expect(progressMode(undefined, false)).toBe('plain');
    expect(progressMode('json', true)).toBe('json');
    expect(() => progressMode('fancy', true)).toThrow(/unsupported --progress/);
  });
  it('plain prints docker compose lines', async () => {
    const s = sink();
    const d = plainDisplay(s.out);
    for (const e of events) d.onEvent(e);
    await d.close();
    expect(s.text()).toBe(
      ' Network demo_default  Creating\n Network demo_default  Created 0.0s\n Container demo-web-1  Error 1.3s start container demo-web-1: boom\n',
    );
  });
  it('json prints one object per event', async () => {
    const s = sink();
    const d = jsonDisplay(s.out);
    for (const e of events) d.onEvent(e);
    await d.close();
    const lines = s
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toEqual({
      node: 1,
      kind: 'Network',
      resource: 'demo_default',
      status: 'Created',
      ms: 42,
    });
    expect(lines[2]?.['error']).toBe('start container demo-web-1: boom');
  });
  it('quiet prints nothing and tty titles carry the duration on final statuses', async () => {
    for (const e of events) quietDisplay.onEvent(e);
    await quietDisplay.close();
    expect(taskTitle(events[0] as ProgressEvent)).toBe('Network demo_default  Creating');
    expect(
      taskTitle({ node: 3, kind: 'Container', resource: 'demo-db-1', status: 'Healthy', ms: 1600 }),
    ).toBe('Container demo-db-1  Healthy  1.6s');
  });
});

describe('logs', () => {
  it('decodes multiplexed frames split across chunks', () => {
    const frame = (stream: number, text: string): Buffer => {
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([h, Buffer.from(text)]);
    };
    const all = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]);
    const d = new FrameDecoder();
    const got = [
      ...d.push(all.subarray(0, 5)),
      ...d.push(all.subarray(5, 14)),
      ...d.push(all.subarray(14)),
    ];
    expect(got.map((f) => [f.stream, f.data.toString()])).toEqual([
      [1, 'out\n'],
      [2, 'err\n'],
    ]);
  });
  it('splits lines and prefixes them like docker compose', () => {
    const l = new LineSplitter();
    expect(l.push('a\nb')).toEqual(['a']);
    expect(l.push('c\r\n')).toEqual(['bc']);
    expect(l.flush()).toEqual([]);
    expect(logPrefix('web-1', 0, { width: 6 })).toBe('web-1   | ');
    expect(logPrefix('web-1', 0, { width: 5, color: true })).toBe('\u001b[36mweb-1  | \u001b[0m');
    expect(logPrefix('web-1', 0, { width: 5, noPrefix: true })).toBe('');
    expect(displayName('demo', 'demo-web-1')).toBe('web-1');
    expect(displayName('demo', 'fixed-name')).toBe('fixed-name');
  });
  it('reads --since values', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(apiTime('42m', now)).toBe(now / 1000 - 42 * 60);
    expect(apiTime('1h30m', now)).toBe(now / 1000 - 5400);
    expect(apiTime('1700000000', now)).toBe(1700000000);
    expect(apiTime('2026-01-01T11:00:00Z', now)).toBe(now / 1000 - 3600);
  });
});

describe('flags', () => {
  it('parses --host and DOCKER_HOST', () => {
    expect(parseDockerHost('unix:///tmp/d.sock')).toEqual({
      kind: 'unix',
      socketPath: '/tmp/d.sock',
    });
    expect(parseDockerHost('tcp://127.0.0.1')).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 2375,
    });
    expect(parseDockerHost('tcp://[::1]:2376')).toEqual({ kind: 'tcp', host: '::1', port: 2376 });
    expect(() => parseDockerHost('ssh://me@host')).toThrow(/unsupported scheme/);
    expect(chosenHost({ host: 'unix:///a' }, { DOCKER_HOST: 'unix:///b' })).toBe('unix:///a');
    expect(chosenHost({}, { DOCKER_HOST: 'unix:///b' })).toBe('unix:///b');
    expect(chosenHost({}, {})).toBeUndefined();
  });
  it('turns up flags into orchestrator options and refuses incompatible ones', () => {
    expect(parseScale(['web=3', 'db=0'])).toEqual({ web: 3, db: 0 });
    expect(() => parseScale(['web'])).toThrow(/invalid --scale/);
    expect(
      upOptions(['web'], {
        deps: false,
        recreate: false,
        timeout: '5',
        waitTimeout: '3',
        pull: 'never',
      }),
    ).toMatchObject({
      services: ['web'],
      noDeps: true,
      noRecreate: true,
      timeoutS: 5,
      waitTimeoutMs: 3000,
      pull: 'never',
    });
    expect(() => upOptions([], { detach: true, abortOnContainerExit: true })).toThrow(
      /incompatible/,
    );
    expect(() => upOptions([], { forceRecreate: true, recreate: false })).toThrow(/incompatible/);
    expect(() => upOptions([], { pull: 'sometimes' })).toThrow(/invalid --pull/);
  });
  it('commander parses the docker compose flags of each command', () => {
    const p = buildProgram();
    const up = p.commands.find((c) => c.name() === 'up');
    up?.action(() => undefined);
    p.parse(
      [
        '-p',
        'demo',
        'up',
        '-d',
        '--scale',
        'web=2',
        '--scale',
        'db=1',
        '--no-deps',
        '-t',
        '3',
        'web',
      ],
      { from: 'user' },
    );
    expect(p.opts()).toMatchObject({ projectName: 'demo' });
    expect(up?.opts()).toMatchObject({
      detach: true,
      scale: ['web=2', 'db=1'],
      deps: false,
      timeout: '3',
    });
    expect(up?.args).toEqual(['web']);
    const names = p.commands.map((c) => c.name()).sort();
    for (const n of [
      'config',
      'cp',
      'down',
      'engine',
      'events',
      'exec',
      'images',
      'kill',
      'logs',
      'ls',
      'pause',
      'port',
      'ps',
      'pull',
      'restart',
      'rm',
      'run',
      'start',
      'stop',
      'top',
      'unpause',
      'up',
      'version',
    ]) {
      expect(names).toContain(n);
    }
  });
  it('exec and run pass the command flags through', () => {
    const p = buildProgram();
    const exec = p.commands.find((c) => c.name() === 'exec');
    let got: unknown[] = [];
    exec?.action((service: string, cmd: string[], o: object) => {
      got = [service, cmd, o];
    });
    p.parse(['exec', '-T', '-e', 'A=1', 'web', 'sh', '-c', 'echo $A'], { from: 'user' });
    expect(got).toEqual([
      'web',
      ['sh', '-c', 'echo $A'],
      expect.objectContaining({ tty: false, env: ['A=1'], index: '1' }),
    ]);
  });
  it('ps --status and --filter validate states', () => {
    expect(statusFilter({ status: ['running'], filter: ['status=exited'] })).toEqual([
      'running',
      'exited',
    ]);
    expect(() => statusFilter({ status: ['sleeping'] })).toThrow(/invalid status/);
    expect(() => statusFilter({ filter: ['name=x'] })).toThrow(/invalid filter/);
  });
  it('-e takes KEY=VAL as is and KEY from the environment', () => {
    expect(envEntries(['A=1', 'B', 'C'], { B: 'two' })).toEqual(['A=1', 'B=two']);
  });
  it('cp tells service paths from host paths', () => {
    expect(parseCopyEndpoint('web:/etc/hosts')).toEqual({
      kind: 'service',
      service: 'web',
      path: '/etc/hosts',
    });
    expect(parseCopyEndpoint('./a:b')).toEqual({ kind: 'host', path: './a:b' });
    expect(parseCopyEndpoint('/tmp/x')).toEqual({ kind: 'host', path: '/tmp/x' });
  });
});

describe('run', () => {
  it('parses -p like docker', () => {
    expect(parsePublish('8080:80')).toEqual(['80/tcp', { HostPort: '8080' }]);
    expect(parsePublish('127.0.0.1:53:53/udp')).toEqual([
      '53/udp',
      { HostIp: '127.0.0.1', HostPort: '53' },
    ]);
    expect(parsePublish('80')).toEqual(['80/tcp', {}]);
  });
  it('marks the one-off container and drops service ports and restart', () => {
    const body = oneOffBody(
      {
        name: 'demo-web-1',
        Image: 'busybox:1.36',
        Cmd: ['httpd'],
        Env: ['A=1'],
        Labels: {
          'com.docker.compose.container-number': '1',
          'com.docker.compose.oneoff': 'False',
        },
        HostConfig: {
          PortBindings: { '80/tcp': [{ HostPort: '8080' }] },
          RestartPolicy: { Name: 'always' },
        },
      },
      'demo-web-run-0123456789ab',
      '0123456789ab'.padEnd(64, '0'),
      ['echo', 'hi'],
      { env: ['B=2'], publish: ['9090:90'], volume: ['/tmp:/x'], label: ['k=v'] },
      false,
      false,
    );
    expect(body).toMatchObject({
      name: 'demo-web-run-0123456789ab',
      Cmd: ['echo', 'hi'],
      Env: ['A=1', 'B=2'],
      Tty: false,
      HostConfig: {
        PortBindings: { '90/tcp': [{ HostPort: '9090' }] },
        RestartPolicy: { Name: 'no' },
        Binds: ['/tmp:/x'],
      },
    });
    expect(body.Labels).toEqual({
      'com.docker.compose.oneoff': 'True',
      'com.docker.compose.slug': '0123456789ab'.padEnd(64, '0'),
      k: 'v',
    });
  });
  it('--entrypoint without a command drops the command', () => {
    const b = oneOffBody(
      { Image: 'x', Cmd: ['a'] },
      'n',
      's',
      [],
      { entrypoint: 'sh -c' },
      false,
      false,
    );
    expect(b.Entrypoint).toEqual(['sh', '-c']);
    expect(b.Cmd).toBeUndefined();
  });
  it('drops the run service from the up plan and rewires what waited on it', () => {
    const c = (service: string): { service: string; replica: number; name: string } => ({
      service,
      replica: 1,
      name: `demo-${service}-1`,
    });
    const nodes: PlanNode[] = [
      {
        id: 1,
        op: { kind: 'create-network', name: 'demo_default', body: { Name: 'demo_default' } },
        cause: 'missing',
        after: [],
      },
      {
        id: 2,
        op: {
          kind: 'create-container',
          container: c('db'),
          spec: { name: 'demo-db-1', body: {}, connect: [] },
        },
        cause: 'missing',
        after: [1],
      },
      {
        id: 3,
        op: {
          kind: 'create-container',
          container: c('web'),
          spec: { name: 'demo-web-1', body: {}, connect: [] },
        },
        cause: 'missing',
        after: [1],
      },
      {
        id: 4,
        op: { kind: 'start-container', container: c('db') },
        cause: 'created',
        after: [2, 3],
      },
      { id: 5, op: { kind: 'start-container', container: c('web') }, cause: 'created', after: [4] },
    ];
    const out = withoutService({ nodes, orphans: [] }, 'web');
    expect(out.nodes.map((n) => [n.id, n.after])).toEqual([
      [1, []],
      [2, [1]],
      [4, [2, 1]],
    ]);
  });
});

describe('tty progress lines', () => {
  it('draws one line per resource; a wait node reports on each container it waits for', () => {
    const c = { service: 'db', replica: 1, name: 'demo-db-1' };
    expect(
      nodeLines({
        kind: 'create-container',
        container: c,
        spec: { name: 'demo-db-1', body: {}, connect: [] },
      }),
    ).toEqual(['Container demo-db-1']);
    expect(nodeLines({ kind: 'start-container', container: c })).toEqual(['Container demo-db-1']);
    expect(
      nodeLines({
        kind: 'wait-service',
        service: 'db',
        condition: 'service_healthy',
        containers: ['demo-db-1', 'demo-db-2'],
        required: true,
      }),
    ).toEqual(['Container demo-db-1', 'Container demo-db-2']);
    expect(
      nodeLines({ kind: 'create-network', name: 'demo_default', body: { Name: 'demo_default' } }),
    ).toEqual(['Network demo_default']);
    expect(nodeLines({ kind: 'pull-image', ref: 'busybox:1.36' })).toEqual(['Image busybox:1.36']);
  });
});

describe('daemon errors', () => {
  it('become EngineErrors with the daemon message and a code by status', () => {
    const conflict = Object.assign(new Error('(HTTP code 409) unexpected'), {
      statusCode: 409,
      json: { message: 'container abc is not running' },
    });
    expect(asEngineError(conflict)).toMatchObject({
      code: 'TSC_ENGINE_CONFLICT',
      message: 'engine API (409): container abc is not running',
    });
    const refused = Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' });
    expect(asEngineError(refused)).toMatchObject({ code: 'TSC_ENGINE_UNAVAILABLE' });
    const bug = new TypeError('x is undefined');
    expect(asEngineError(bug)).toBe(bug);
  });
});
