import {
  checkRestartPolicy,
  containerArgv,
  healthArgv,
  healthTimings,
  mergeImageConfig,
  nextRestartDelay,
  normalizeName,
  parseBytes,
  parseMounts,
  parseSignal,
  portSpecs,
  shouldRestart,
} from '../../../../engine/containers/config';

describe('mergeImageConfig', () => {
  const image = {
    Env: ['PATH=/bin', 'A=image'],
    Cmd: ['sh'],
    Entrypoint: ['/entry'],
    WorkingDir: '/w',
    User: 'app',
    Labels: { a: '1', b: '1' },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGQUIT',
  };

  it('keeps container env first and adds image keys it lacks', () => {
    const c = mergeImageConfig({ Env: ['A=mine', 'B=2'], Image: 'x' }, image);
    expect(c.Env).toEqual(['A=mine', 'B=2', 'PATH=/bin']);
    expect(c.Labels).toEqual({ a: '1', b: '1' });
    expect(c.User).toBe('app');
    expect(c.WorkingDir).toBe('/w');
    expect(c.StopSignal).toBe('SIGQUIT');
    expect(c.ExposedPorts).toEqual({ '80/tcp': {} });
  });

  it('applies the Entrypoint/Cmd rules', () => {
    expect(containerArgv(mergeImageConfig({ Image: 'x' }, image))).toEqual(['/entry', 'sh']);
    expect(containerArgv(mergeImageConfig({ Image: 'x', Cmd: ['ls'] }, image))).toEqual([
      '/entry',
      'ls',
    ]);
    expect(containerArgv(mergeImageConfig({ Image: 'x', Entrypoint: ['/e2'] }, image))).toEqual([
      '/e2',
    ]);
    expect(() => containerArgv(mergeImageConfig({ Image: 'x' }, {}))).toThrow(
      'no command specified',
    );
  });

  it('overlays the container healthcheck fields on the image one', () => {
    const c = mergeImageConfig(
      { Image: 'x', Healthcheck: { Interval: 5 } },
      { Healthcheck: { Test: ['CMD', 'true'], Interval: 1, Retries: 4 } },
    );
    expect(c.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 5,
      Retries: 4,
      Timeout: undefined,
      StartPeriod: undefined,
      StartInterval: undefined,
    });
  });
});

describe('names, sizes, signals', () => {
  it('checks container names like dockerd', () => {
    expect(normalizeName('web-1')).toBe('/web-1');
    expect(() => normalizeName('-bad')).toThrow('Invalid container name');
  });
  it('parses sizes and signals', () => {
    expect(parseBytes('64m')).toBe(64 * 1024 * 1024);
    expect(parseSignal('term', 'SIGKILL')).toBe('SIGTERM');
    expect(parseSignal('9', 'SIGTERM')).toBe(9);
    expect(parseSignal(undefined, 'SIGKILL')).toBe('SIGKILL');
    expect(() => parseSignal('NOPE', 'SIGTERM')).toThrow('Invalid signal: NOPE');
  });
});

describe('parseMounts and portSpecs', () => {
  const config = mergeImageConfig(
    { Image: 'x', Cmd: ['x'], Volumes: { '/data': {}, '/v': {} } },
    {},
  );

  it('reads binds, named volumes, tmpfs and anonymous volumes', () => {
    const m = parseMounts(config, {
      Binds: ['/host:/in:ro', 'named:/v:nocopy'],
      Tmpfs: { '/t': 'size=1m,mode=1777' },
    });
    expect(m).toEqual([
      expect.objectContaining({ Type: 'bind', Source: '/host', Destination: '/in', RW: false }),
      expect.objectContaining({ Type: 'volume', Name: 'named', Destination: '/v', NoCopy: true }),
      expect.objectContaining({
        Type: 'tmpfs',
        Destination: '/t',
        TmpfsSize: 1048576,
        TmpfsMode: 0o1777,
      }),
      expect.objectContaining({ Type: 'volume', Name: '', Destination: '/data', Anonymous: true }),
    ]);
    expect(() => parseMounts(config, { Binds: ['/a:rel'] })).toThrow('mount path must be absolute');
  });

  it('turns PortBindings into port specs', () => {
    expect(
      portSpecs({
        PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': null },
      }),
    ).toEqual([
      { protocol: 'tcp', hostIp: '127.0.0.1', published: '', target: '80' },
      { protocol: 'udp', hostIp: '', published: '', target: '53' },
    ]);
  });
});

describe('restart policies and healthchecks', () => {
  it('decides restarts like the restart manager', () => {
    const onFailure = { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } };
    expect(shouldRestart(onFailure, 1, 2, false)).toBe(true);
    expect(shouldRestart(onFailure, 1, 3, false)).toBe(false);
    expect(shouldRestart(onFailure, 0, 0, false)).toBe(false);
    expect(shouldRestart({ RestartPolicy: { Name: 'always' } }, 0, 9, false)).toBe(true);
    expect(shouldRestart({ RestartPolicy: { Name: 'always' } }, 0, 0, true)).toBe(false);
    expect(shouldRestart({}, 1, 0, false)).toBe(false);
  });

  it('grows the delay from 100 ms, doubling, capped, reset after 10 s of running', () => {
    expect(nextRestartDelay(0, 0)).toBe(100);
    expect(nextRestartDelay(100, 50)).toBe(200);
    expect(nextRestartDelay(200, 50)).toBe(400);
    expect(nextRestartDelay(40_000, 50)).toBe(60_000);
    expect(nextRestartDelay(400, 10_000)).toBe(100);
  });

  it('validates policies', () => {
    expect(() => checkRestartPolicy({ RestartPolicy: { Name: 'sometimes' } })).toThrow(
      "unknown policy 'sometimes'",
    );
    expect(() =>
      checkRestartPolicy({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }),
    ).toThrow("can only be used with 'on-failure'");
    expect(() =>
      checkRestartPolicy({ AutoRemove: true, RestartPolicy: { Name: 'always' } }),
    ).toThrow('cannot specify both --restart and --rm');
  });

  it('builds healthcheck commands and timings', () => {
    expect(healthArgv(['CMD-SHELL', 'curl -f x'])).toEqual(['/bin/sh', '-c', 'curl -f x']);
    expect(healthArgv(['CMD', 'true'])).toEqual(['true']);
    expect(healthArgv(['NONE'])).toBeUndefined();
    expect(healthTimings({ Interval: 2e9 })).toEqual({
      intervalMs: 2000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      startIntervalMs: 5000,
      retries: 3,
    });
  });
});
