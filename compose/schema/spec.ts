/**
 * The Compose file schema as zod schemas, one per `$defs` entry of compose-go's embedded schema
 * (draft 2020-12; /work/shared/corpus/compose-go-schema.json), in dependency order. Derived from that
 * schema once by a throwaway script; maintained by hand since. Schemas only; messages come from core.ts.
 * The parts most files never use (most `$defs`, the long forms of a service's build, networks,
 * ports, volumes...) are `deferred`: built on their first parse, not when a command starts.
 */
import { z } from 'zod';
import {
  anyMap,
  deferred,
  loose,
  mixed,
  namedMap,
  openMap,
  optTypes,
  strict,
  strictX,
  types,
  uniqueList,
} from './core.js';

/** `$defs.list_of_strings`: A list of unique string values. */
export const listOfStringsSchema: z.ZodType = uniqueList(types(['string']));

/** `$defs.string_or_list`: Either a single string or a list of strings. */
export const stringOrListSchema: z.ZodType = z.union([types(['string']), listOfStringsSchema]);

/** `$defs.command`: Command to run in the container, which can be specified as a string (shell form) or array (exec form). */
export const commandSchema: z.ZodType = z.union([
  types(['null']),
  types(['string']),
  z.array(types(['string'])),
]);

/** `$defs.list_or_dict`: Either a dictionary mapping keys to values, or a list of strings. */
export const listOrDictSchema: z.ZodType = z.union([
  namedMap('.+', types(['string', 'number', 'boolean', 'null'])),
  uniqueList(types(['string'])),
]);

/** `$defs.service_hook`: Configuration for service lifecycle hooks, which are commands executed at specific points in a container's lifecycle. */
export const serviceHookSchema: z.ZodType = deferred(() =>
  strictX({
    command: commandSchema,
    user: optTypes(['string']),
    privileged: optTypes(['boolean', 'string']),
    working_dir: optTypes(['string']),
    environment: listOrDictSchema.optional(),
  }),
);

/** `$defs.development`: Development configuration for the service, used for development workflows. */
export const developmentSchema: z.ZodType = deferred(() =>
  mixed(
    ['object', 'null'],
    strictX({
      watch: z
        .array(
          strictX({
            ignore: stringOrListSchema.optional(),
            include: stringOrListSchema.optional(),
            path: types(['string']),
            action: types(['string'], {
              enum: ['rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'],
            }),
            target: optTypes(['string']),
            exec: serviceHookSchema.optional(),
            initial_sync: optTypes(['boolean']),
          }),
        )
        .optional(),
    }),
  ),
);

/** `$defs.generic_resources`: User-defined resources for services, allowing services to reserve specialized hardware resources. */
export const genericResourcesSchema: z.ZodType = deferred(() =>
  z.array(
    strictX({
      discrete_resource_spec: strictX({
        kind: optTypes(['string']),
        value: optTypes(['number', 'string']),
      }).optional(),
    }),
  ),
);

/** `$defs.devices`: Device reservations for containers, allowing services to access specific hardware devices. */
export const devicesSchema: z.ZodType = deferred(() =>
  z.array(
    strictX({
      capabilities: listOfStringsSchema,
      count: optTypes(['string', 'integer']),
      device_ids: listOfStringsSchema.optional(),
      driver: optTypes(['string']),
      options: listOrDictSchema.optional(),
    }),
  ),
);

/** `$defs.deployment`: Deployment configuration for the service. */
export const deploymentSchema: z.ZodType = deferred(() =>
  mixed(
    ['object', 'null'],
    strictX({
      mode: optTypes(['string']),
      endpoint_mode: optTypes(['string']),
      replicas: optTypes(['integer', 'string']),
      labels: listOrDictSchema.optional(),
      rollback_config: strictX({
        parallelism: optTypes(['integer', 'string']),
        delay: optTypes(['string']),
        failure_action: optTypes(['string']),
        monitor: optTypes(['string']),
        max_failure_ratio: optTypes(['number', 'string']),
        order: types(['string'], { enum: ['start-first', 'stop-first'] }).optional(),
      }).optional(),
      update_config: strictX({
        parallelism: optTypes(['integer', 'string']),
        delay: optTypes(['string']),
        failure_action: optTypes(['string']),
        monitor: optTypes(['string']),
        max_failure_ratio: optTypes(['number', 'string']),
        order: types(['string'], { enum: ['start-first', 'stop-first'] }).optional(),
      }).optional(),
      resources: strictX({
        limits: strictX({
          cpus: optTypes(['number', 'string']),
          memory: optTypes(['string']),
          pids: optTypes(['integer', 'string']),
        }).optional(),
        reservations: strictX({
          cpus: optTypes(['number', 'string']),
          memory: optTypes(['string']),
          generic_resources: genericResourcesSchema.optional(),
          devices: devicesSchema.optional(),
        }).optional(),
      }).optional(),
      restart_policy: strictX({
        condition: optTypes(['string']),
        delay: optTypes(['string']),
        max_attempts: optTypes(['integer', 'string']),
        window: optTypes(['string']),
      }).optional(),
      placement: strictX({
        constraints: z.array(types(['string'])).optional(),
        preferences: z
          .array(
            strictX({
              spread: optTypes(['string']),
            }),
          )
          .optional(),
        max_replicas_per_node: optTypes(['integer', 'string']),
      }).optional(),
    }),
  ),
);

/** `$defs.extra_hosts`: Additional hostnames to be defined in the container's /etc/hosts file. */
export const extraHostsSchema: z.ZodType = deferred(() =>
  z.union([
    namedMap('.+', z.union([types(['string']), z.array(types(['string']))])),
    uniqueList(types(['string'])),
  ]),
);

/** `$defs.service_config_or_secret`: Configuration for service configs or secrets, defining how they are mounted in the container. */
export const serviceConfigOrSecretSchema: z.ZodType = deferred(() =>
  z.array(
    z.union([
      types(['string']),
      strictX({
        source: optTypes(['string']),
        target: optTypes(['string']),
        uid: optTypes(['string']),
        gid: optTypes(['string']),
        mode: optTypes(['number', 'string']),
      }),
    ]),
  ),
);

/** `$defs.ulimits`: Container ulimit options, controlling resource limits for processes inside the container. */
export const ulimitsSchema: z.ZodType = deferred(() =>
  openMap(
    '^[a-z]+$',
    z.union([
      types(['integer', 'string']),
      strictX({
        hard: types(['integer', 'string']),
        soft: types(['integer', 'string']),
      }),
    ]),
  ),
);

/** `$defs.blkio_limit`: Block IO limit for a specific device. */
export const blkioLimitSchema: z.ZodType = deferred(() =>
  strict({
    path: optTypes(['string']),
    rate: optTypes(['integer', 'string']),
  }),
);

/** `$defs.blkio_weight`: Block IO weight for a specific device. */
export const blkioWeightSchema: z.ZodType = deferred(() =>
  strict({
    path: optTypes(['string']),
    weight: optTypes(['integer', 'string']),
  }),
);

/** `$defs.env_file` */
export const envFileSchema: z.ZodType = deferred(() =>
  z.union([
    types(['string']),
    z.array(
      z.union([
        types(['string']),
        strict({
          path: types(['string']),
          format: optTypes(['string']),
          required: optTypes(['boolean', 'string']),
        }),
      ]),
    ),
  ]),
);

/** `$defs.label_file` */
export const labelFileSchema: z.ZodType = deferred(() =>
  z.union([types(['string']), z.array(types(['string']))]),
);

/** `$defs.gpus` */
export const gpusSchema: z.ZodType = deferred(() =>
  z.union([
    types(['string'], { enum: ['all'] }),
    z.array(
      loose({
        capabilities: listOfStringsSchema.optional(),
        count: optTypes(['string', 'integer']),
        device_ids: listOfStringsSchema.optional(),
        driver: optTypes(['string']),
        options: listOrDictSchema.optional(),
      }),
    ),
  ]),
);

/** `$defs.healthcheck`: Configuration options to determine whether the container is healthy. */
export const healthcheckSchema: z.ZodType = deferred(() =>
  strictX({
    disable: optTypes(['boolean', 'string']),
    interval: optTypes(['string']),
    retries: optTypes(['number', 'string']),
    test: z.union([types(['string']), z.array(types(['string']))]).optional(),
    timeout: optTypes(['string']),
    start_period: optTypes(['string']),
    start_interval: optTypes(['string']),
  }),
);

/** `$defs.pre_start_hook`: Configuration for a pre_start init container, run to completion before the service container starts. */
export const preStartHookSchema: z.ZodType = deferred(() =>
  strictX({
    command: commandSchema.optional(),
    image: optTypes(['string']),
    user: optTypes(['string']),
    privileged: optTypes(['boolean', 'string']),
    working_dir: optTypes(['string']),
    environment: listOrDictSchema.optional(),
    per_replica: optTypes(['boolean', 'string']),
  }),
);

/** `$defs.service`: Configuration for a service. */
export const serviceSchema: z.ZodType = strictX({
  develop: developmentSchema.optional(),
  deploy: deploymentSchema.optional(),
  annotations: listOrDictSchema.optional(),
  attach: optTypes(['boolean', 'string']),
  build: deferred(() =>
    z.union([
      types(['string']),
      strictX({
        context: optTypes(['string']),
        dockerfile: optTypes(['string']),
        dockerfile_inline: optTypes(['string']),
        entitlements: z.array(types(['string'])).optional(),
        args: listOrDictSchema.optional(),
        ssh: listOrDictSchema.optional(),
        labels: listOrDictSchema.optional(),
        cache_from: z.array(types(['string'])).optional(),
        cache_to: z.array(types(['string'])).optional(),
        no_cache: optTypes(['boolean', 'string']),
        no_cache_filter: stringOrListSchema.optional(),
        additional_contexts: listOrDictSchema.optional(),
        network: optTypes(['string']),
        provenance: optTypes(['string', 'boolean']),
        sbom: optTypes(['string', 'boolean']),
        pull: optTypes(['boolean', 'string']),
        target: optTypes(['string']),
        shm_size: optTypes(['integer', 'string']),
        extra_hosts: extraHostsSchema.optional(),
        isolation: optTypes(['string']),
        privileged: optTypes(['boolean', 'string']),
        secrets: serviceConfigOrSecretSchema.optional(),
        tags: z.array(types(['string'])).optional(),
        ulimits: ulimitsSchema.optional(),
        platforms: z.array(types(['string'])).optional(),
      }),
    ]),
  ).optional(),
  blkio_config: deferred(() =>
    strict({
      device_read_bps: z.array(blkioLimitSchema).optional(),
      device_read_iops: z.array(blkioLimitSchema).optional(),
      device_write_bps: z.array(blkioLimitSchema).optional(),
      device_write_iops: z.array(blkioLimitSchema).optional(),
      weight: optTypes(['integer', 'string']),
      weight_device: z.array(blkioWeightSchema).optional(),
    }),
  ).optional(),
  cap_add: uniqueList(types(['string'])).optional(),
  cap_drop: uniqueList(types(['string'])).optional(),
  cgroup: types(['string'], { enum: ['host', 'private'] }).optional(),
  cgroup_parent: optTypes(['string']),
  command: commandSchema.optional(),
  configs: serviceConfigOrSecretSchema.optional(),
  container_name: types(['string'], { pattern: '[a-zA-Z0-9][a-zA-Z0-9_.-]+' }).optional(),
  cpu_count: z.union([types(['string']), types(['integer'], { minimum: 0 })]).optional(),
  cpu_percent: z
    .union([types(['string']), types(['integer'], { minimum: 0, maximum: 100 })])
    .optional(),
  cpu_shares: optTypes(['number', 'string']),
  cpu_quota: optTypes(['number', 'string']),
  cpu_period: optTypes(['number', 'string']),
  cpu_rt_period: optTypes(['number', 'string']),
  cpu_rt_runtime: optTypes(['number', 'string']),
  cpus: optTypes(['number', 'string']),
  cpuset: optTypes(['string']),
  credential_spec: deferred(() =>
    strictX({
      config: optTypes(['string']),
      file: optTypes(['string']),
      registry: optTypes(['string']),
    }),
  ).optional(),
  depends_on: deferred(() =>
    z.union([
      listOfStringsSchema,
      namedMap(
        '^[a-zA-Z0-9._-]+$',
        strictX({
          restart: optTypes(['boolean', 'string']),
          required: optTypes(['boolean']),
          condition: types(['string'], {
            enum: ['service_started', 'service_healthy', 'service_completed_successfully'],
          }),
        }),
      ),
    ]),
  ).optional(),
  device_cgroup_rules: listOfStringsSchema.optional(),
  devices: deferred(() =>
    z.array(
      z.union([
        types(['string']),
        strictX({
          source: types(['string']),
          target: optTypes(['string']),
          permissions: optTypes(['string']),
        }),
      ]),
    ),
  ).optional(),
  dns: stringOrListSchema.optional(),
  dns_opt: uniqueList(types(['string'])).optional(),
  dns_search: stringOrListSchema.optional(),
  domainname: optTypes(['string']),
  entrypoint: commandSchema.optional(),
  env_file: envFileSchema.optional(),
  label_file: labelFileSchema.optional(),
  environment: listOrDictSchema.optional(),
  expose: uniqueList(types(['string', 'number'])).optional(),
  extends: deferred(() =>
    z.union([
      types(['string']),
      strict({
        service: types(['string']),
        file: optTypes(['string']),
      }),
    ]),
  ).optional(),
  provider: deferred(() =>
    strictX({
      type: types(['string']),
      options: openMap(
        '^.+$',
        z.union([
          types(['string', 'number', 'boolean']),
          z.array(types(['string', 'number', 'boolean'])),
        ]),
      ).optional(),
    }),
  ).optional(),
  external_links: uniqueList(types(['string'])).optional(),
  extra_hosts: extraHostsSchema.optional(),
  gpus: gpusSchema.optional(),
  group_add: uniqueList(types(['string', 'number'])).optional(),
  healthcheck: healthcheckSchema.optional(),
  hostname: optTypes(['string']),
  image: optTypes(['string']),
  init: optTypes(['boolean', 'string']),
  ipc: optTypes(['string']),
  isolation: optTypes(['string']),
  labels: listOrDictSchema.optional(),
  links: uniqueList(types(['string'])).optional(),
  logging: deferred(() =>
    strictX({
      driver: optTypes(['string']),
      options: openMap('^.+$', types(['string', 'number', 'null'])).optional(),
    }),
  ).optional(),
  mac_address: optTypes(['string']),
  mem_limit: optTypes(['number', 'string']),
  mem_reservation: optTypes(['string', 'integer']),
  mem_swappiness: optTypes(['integer', 'string']),
  memswap_limit: optTypes(['number', 'string']),
  network_mode: optTypes(['string']),
  models: deferred(() =>
    z.union([
      listOfStringsSchema,
      openMap(
        '^[a-zA-Z0-9._-]+$',
        z.union([
          strictX({
            endpoint_var: optTypes(['string']),
            model_var: optTypes(['string']),
          }),
          types(['null']),
        ]),
      ),
    ]),
  ).optional(),
  networks: deferred(() =>
    z.union([
      listOfStringsSchema,
      namedMap(
        '^[a-zA-Z0-9._-]+$',
        z.union([
          strictX({
            aliases: listOfStringsSchema.optional(),
            interface_name: optTypes(['string']),
            ipv4_address: optTypes(['string']),
            ipv6_address: optTypes(['string']),
            link_local_ips: listOfStringsSchema.optional(),
            mac_address: optTypes(['string']),
            driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
            priority: optTypes(['number']),
            gw_priority: optTypes(['number']),
          }),
          types(['null']),
        ]),
      ),
    ]),
  ).optional(),
  oom_kill_disable: optTypes(['boolean', 'string']),
  oom_score_adj: z
    .union([types(['string']), types(['integer'], { minimum: -1000, maximum: 1000 })])
    .optional(),
  pid: optTypes(['string', 'null']),
  pids_limit: optTypes(['number', 'string']),
  platform: optTypes(['string']),
  ports: deferred(() =>
    uniqueList(
      z.union([
        types(['number']),
        types(['string']),
        strictX({
          name: optTypes(['string']),
          mode: optTypes(['string']),
          host_ip: optTypes(['string']),
          target: optTypes(['integer', 'string']),
          published: optTypes(['string', 'integer']),
          protocol: optTypes(['string']),
          app_protocol: optTypes(['string']),
        }),
      ]),
    ),
  ).optional(),
  pre_start: z.array(preStartHookSchema).optional(),
  post_start: z.array(serviceHookSchema).optional(),
  pre_stop: z.array(serviceHookSchema).optional(),
  privileged: optTypes(['boolean', 'string']),
  profiles: listOfStringsSchema.optional(),
  pull_policy: types(['string'], {
    pattern:
      'always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+',
  }).optional(),
  pull_refresh_after: optTypes(['string']),
  read_only: optTypes(['boolean', 'string']),
  restart: optTypes(['string']),
  runtime: optTypes(['string']),
  scale: optTypes(['integer', 'string']),
  security_opt: uniqueList(types(['string'])).optional(),
  shm_size: optTypes(['number', 'string']),
  secrets: serviceConfigOrSecretSchema.optional(),
  sysctls: listOrDictSchema.optional(),
  stdin_open: optTypes(['boolean', 'string']),
  stop_grace_period: optTypes(['string']),
  stop_signal: optTypes(['string']),
  storage_opt: anyMap().optional(),
  tmpfs: stringOrListSchema.optional(),
  tty: optTypes(['boolean', 'string']),
  ulimits: ulimitsSchema.optional(),
  use_api_socket: optTypes(['boolean']),
  user: optTypes(['string']),
  uts: optTypes(['string']),
  userns_mode: optTypes(['string']),
  volumes: deferred(() =>
    uniqueList(
      z.union([
        types(['string']),
        strictX({
          type: types(['string'], {
            enum: ['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'],
          }),
          source: optTypes(['string']),
          target: optTypes(['string']),
          read_only: optTypes(['boolean', 'string']),
          consistency: optTypes(['string']),
          bind: strictX({
            propagation: optTypes(['string']),
            create_host_path: optTypes(['boolean', 'string']),
            recursive: types(['string'], {
              enum: ['enabled', 'disabled', 'writable', 'readonly'],
            }).optional(),
            selinux: types(['string'], { enum: ['z', 'Z'] }).optional(),
          }).optional(),
          volume: strictX({
            labels: listOrDictSchema.optional(),
            nocopy: optTypes(['boolean', 'string']),
            subpath: optTypes(['string']),
          }).optional(),
          tmpfs: strictX({
            size: z.union([types(['integer'], { minimum: 0 }), types(['string'])]).optional(),
            mode: optTypes(['number', 'string']),
          }).optional(),
          image: strictX({
            subpath: optTypes(['string']),
          }).optional(),
        }),
      ]),
    ),
  ).optional(),
  volumes_from: uniqueList(types(['string'])).optional(),
  working_dir: optTypes(['string']),
});

/** `$defs.include`: Compose application or sub-projects to be included. */
export const includeSchema: z.ZodType = deferred(() =>
  z.union([
    types(['string']),
    strict({
      path: stringOrListSchema.optional(),
      env_file: stringOrListSchema.optional(),
      project_directory: optTypes(['string']),
    }),
  ]),
);

/** `$defs.network`: Network configuration for the Compose application. */
export const networkSchema: z.ZodType = deferred(() =>
  mixed(
    ['object', 'null'],
    strictX({
      name: optTypes(['string']),
      driver: optTypes(['string']),
      driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
      ipam: strictX({
        driver: optTypes(['string']),
        config: z
          .array(
            strictX({
              subnet: optTypes(['string']),
              ip_range: optTypes(['string']),
              gateway: optTypes(['string']),
              aux_addresses: namedMap('^.+$', types(['string'])).optional(),
            }),
          )
          .optional(),
        options: namedMap('^.+$', types(['string'])).optional(),
      }).optional(),
      external: mixed(
        ['boolean', 'string', 'object'],
        strictX({
          name: optTypes(['string']),
        }),
      ).optional(),
      internal: optTypes(['boolean', 'string']),
      enable_ipv4: optTypes(['boolean', 'string']),
      enable_ipv6: optTypes(['boolean', 'string']),
      attachable: optTypes(['boolean', 'string']),
      labels: listOrDictSchema.optional(),
    }),
  ),
);

/** `$defs.volume`: Volume configuration for the Compose application. */
export const volumeSchema: z.ZodType = deferred(() =>
  mixed(
    ['object', 'null'],
    strictX({
      name: optTypes(['string']),
      driver: optTypes(['string']),
      driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
      external: mixed(
        ['boolean', 'string', 'object'],
        strictX({
          name: optTypes(['string']),
        }),
      ).optional(),
      labels: listOrDictSchema.optional(),
    }),
  ),
);

/** `$defs.secret`: Secret configuration for the Compose application. */
export const secretSchema: z.ZodType = deferred(() =>
  strictX({
    name: optTypes(['string']),
    environment: optTypes(['string']),
    file: optTypes(['string']),
    external: mixed(
      ['boolean', 'string', 'object'],
      loose({
        name: optTypes(['string']),
      }),
    ).optional(),
    labels: listOrDictSchema.optional(),
    driver: optTypes(['string']),
    driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
    template_driver: optTypes(['string']),
  }),
);

/** `$defs.config`: Config configuration for the Compose application. */
export const configSchema: z.ZodType = deferred(() =>
  strictX({
    name: optTypes(['string']),
    content: optTypes(['string']),
    environment: optTypes(['string']),
    file: optTypes(['string']),
    external: mixed(
      ['boolean', 'string', 'object'],
      loose({
        name: optTypes(['string']),
      }),
    ).optional(),
    labels: listOrDictSchema.optional(),
    template_driver: optTypes(['string']),
  }),
);

/** `$defs.model`: Language Model for the Compose application. */
export const modelSchema: z.ZodType = deferred(() =>
  strictX({
    name: optTypes(['string']),
    model: types(['string']),
    context_size: optTypes(['integer']),
    runtime_flags: z.array(types(['string'])).optional(),
  }),
);

/** The whole compose file (compose_spec.json). */
export const composeFileSchema: z.ZodType = strictX({
  version: optTypes(['string']),
  name: optTypes(['string']),
  include: z.array(includeSchema).optional(),
  services: namedMap('^[a-zA-Z0-9._-]+$', serviceSchema).optional(),
  models: openMap('^[a-zA-Z0-9._-]+$', modelSchema).optional(),
  networks: openMap('^[a-zA-Z0-9._-]+$', networkSchema).optional(),
  volumes: namedMap('^[a-zA-Z0-9._-]+$', volumeSchema).optional(),
  secrets: namedMap('^[a-zA-Z0-9._-]+$', secretSchema).optional(),
  configs: namedMap('^[a-zA-Z0-9._-]+$', configSchema).optional(),
});
