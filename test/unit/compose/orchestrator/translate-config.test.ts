/** translate: container name, labels, Env, Cmd/Entrypoint, process settings, healthcheck, stop. */
import { serviceConfigHash } from '../../../../compose/hash.js';
import type { Service } from '../../../../compose/model.js';
import { normalizeImageRef, translateService } from '../../../../compose/orchestrator/translate.js';

import { project } from './fixtures.js';

const ctx = (s: Service, name = 'web') => ({ project: project({ [name]: s }) });

describe('translate: config', () => {
  it('builds the minimal body docker compose sends', () => {
    const svc: Service = { image: 'nginx' };
    const spec = translateService(
      {
        ...ctx(svc),
        workingDir: '/src',
        configFiles: ['/src/compose.yaml'],
        envFiles: ['/src/.env'],
      },
      'web',
      2,
    );
    expect(spec.name).toBe('demo-web-2');
    expect(spec.connect).toEqual([]);
    expect(spec.body).toEqual({
      name: 'demo-web-2',
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Image: 'nginx',
      Labels: {
        'com.docker.compose.project': 'demo',
        'com.docker.compose.service': 'web',
        'com.docker.compose.container-number': '2',
        'com.docker.compose.oneoff': 'False',
        'com.docker.compose.config-hash': serviceConfigHash(svc),
        'com.docker.compose.version': '2.40.0',
        'com.docker.compose.image': 'nginx',
        'com.docker.compose.depends_on': '',
        'com.docker.compose.project.working_dir': '/src',
        'com.docker.compose.project.config_files': '/src/compose.yaml',
        'com.docker.compose.project.environment_file': '/src/.env',
      },
      HostConfig: { NetworkMode: 'demo_default' },
      NetworkingConfig: { EndpointsConfig: { demo_default: { Aliases: ['web'] } } },
    });
  });

  it('uses container_name, keeps user labels, writes depends_on', () => {
    const svc: Service = {
      image: 'nginx',
      container_name: 'front',
      labels: { 'org.example': 'x' },
      depends_on: {
        db: { condition: 'service_healthy', required: true, restart: true },
        cache: { condition: 'service_started', required: false },
      },
    };
    const { name, body } = translateService(ctx(svc), 'web', 1);
    expect(name).toBe('front');
    expect(body.Labels?.['org.example']).toBe('x');
    expect(body.Labels?.['com.docker.compose.depends_on']).toBe(
      'cache:service_started:false,db:service_healthy:true',
    );
    expect(body.NetworkingConfig).toEqual({
      EndpointsConfig: { demo_default: { Aliases: ['web', 'front'] } },
    });
  });

  it('sorts Env by key, null values as bare keys', () => {
    const { body } = translateService(
      ctx({ image: 'x', environment: { ZED: '1', A: null, M: 'a=b' } }),
      'web',
      1,
    );
    expect(body.Env).toEqual(['A', 'M=a=b', 'ZED=1']);
  });

  it('follows compose command/entrypoint rules', () => {
    const t = (s: Service) => {
      const { Cmd, Entrypoint } = translateService(ctx({ image: 'x', ...s }), 'web', 1).body;
      return { Cmd, Entrypoint };
    };
    expect(t({ command: ['echo', 'hi'] })).toEqual({ Cmd: ['echo', 'hi'], Entrypoint: undefined });
    // entrypoint without command: no Cmd, so the engine drops the image CMD
    expect(t({ entrypoint: ['/bin/sh', '-c'] })).toEqual({
      Cmd: undefined,
      Entrypoint: ['/bin/sh', '-c'],
    });
    expect(t({ entrypoint: [], command: ['true'] })).toEqual({ Cmd: ['true'], Entrypoint: [''] });
    expect(t({ entrypoint: null, command: null })).toEqual({
      Cmd: undefined,
      Entrypoint: undefined,
    });
  });

  it('maps process settings, healthcheck in ns, stop settings', () => {
    const { body } = translateService(
      ctx({
        image: 'x',
        hostname: 'h',
        domainname: 'example.org',
        user: '1000:1000',
        working_dir: '/app',
        tty: true,
        stdin_open: true,
        stop_signal: 'SIGINT',
        stop_grace_period: '1m30s',
        platform: 'linux/amd64',
        healthcheck: {
          test: ['CMD', 'true'],
          interval: '1m30s',
          timeout: '500ms',
          retries: 3,
          start_period: '10s',
          start_interval: '1s',
        },
      }),
      'web',
      1,
    );
    expect({
      platform: body.platform,
      Hostname: body.Hostname,
      Domainname: body.Domainname,
      User: body.User,
      WorkingDir: body.WorkingDir,
      Tty: body.Tty,
      OpenStdin: body.OpenStdin,
      StopSignal: body.StopSignal,
      StopTimeout: body.StopTimeout,
      Healthcheck: body.Healthcheck,
    }).toEqual({
      platform: 'linux/amd64',
      Hostname: 'h',
      Domainname: 'example.org',
      User: '1000:1000',
      WorkingDir: '/app',
      Tty: true,
      OpenStdin: true,
      StopSignal: 'SIGINT',
      StopTimeout: 90,
      Healthcheck: {
        Test: ['CMD', 'true'],
        Interval: 90e9,
        Timeout: 500e6,
        Retries: 3,
        StartPeriod: 10e9,
        StartInterval: 1e9,
      },
    });
    const off = translateService(ctx({ image: 'x', healthcheck: { disable: true } }), 'web', 1);
    expect(off.body.Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('rejects an invalid duration naming the key', () => {
    expect(() =>
      translateService(ctx({ image: 'x', stop_grace_period: '10 sec' }), 'web', 1),
    ).toThrow('services.web.stop_grace_period: invalid duration "10 sec"');
  });

  it('normalises image references like Docker', () => {
    expect(normalizeImageRef('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImageRef('user/app:1.2')).toBe('docker.io/user/app:1.2');
    expect(normalizeImageRef('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(normalizeImageRef('ghcr.io/o/app@sha256:abc')).toBe('ghcr.io/o/app@sha256:abc');
  });
});
