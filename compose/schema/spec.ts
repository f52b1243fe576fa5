/**
 * The Compose file schema as zod schemas, one per `$defs` entry of compose-go's embedded schema
 * (draft 2020-12; /work/shared/corpus/compose-go-schema.json), in dependency order. Derived from that
 * schema once by a throwaway script; maintained by hand since. Schemas only; messages come from core.ts.
 */
import { z } from 'zod';
import {
  anyMap,
  loose,
  mixed,
  namedMap,
  openMap,
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
export const serviceHookSchema: z.ZodType = strictX({
  command: commandSchema,
  user: types(['string']).optional(),
  privileged: types(['boolean', 'string']).optional(),
  working_dir: types(['string']).optional(),
  environment: listOrDictSchema.optional(),
});

/** `$defs.development`: Development configuration for the service, used for development workflows. */
export const developmentSchema: z.ZodType = mixed(
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
          target: types(['string']).optional(),
          exec: serviceHookSchema.optional(),
          initial_sync: types(['boolean']).optional(),
        }),
      )
      .optional(),
  }),
);

/** `$defs.generic_resources`: User-defined resources for services, allowing services to reserve specialized hardware resources. */
export const genericResourcesSchema: z.ZodType = z.array(
  strictX({
    discrete_resource_spec: strictX({
      kind: types(['string']).optional(),
      value: types(['number', 'string']).optional(),
    }).optional(),
  }),
);

/** `$defs.devices`: Device reservations for containers, allowing services to access specific hardware devices. */
export const devicesSchema: z.ZodType = z.array(
  strictX({
    capabilities: listOfStringsSchema,
    count: types(['string', 'integer']).optional(),
    device_ids: listOfStringsSchema.optional(),
    driver: types(['string']).optional(),
    options: listOrDictSchema.optional(),
  }),
);

/** `$defs.deployment`: Deployment configuration for the service. */
export const deploymentSchema: z.ZodType = mixed(
  ['object', 'null'],
  strictX({
    mode: types(['string']).optional(),
    endpoint_mode: types(['string']).optional(),
    replicas: types(['integer', 'string']).optional(),
    labels: listOrDictSchema.optional(),
    rollback_config: strictX({
      parallelism: types(['integer', 'string']).optional(),
      delay: types(['string']).optional(),
      failure_action: types(['string']).optional(),
      monitor: types(['string']).optional(),
      max_failure_ratio: types(['number', 'string']).optional(),
      order: types(['string'], { enum: ['start-first', 'stop-first'] }).optional(),
    }).optional(),
    update_config: strictX({
      parallelism: types(['integer', 'string']).optional(),
      delay: types(['string']).optional(),
      failure_action: types(['string']).optional(),
      monitor: types(['string']).optional(),
      max_failure_ratio: types(['number', 'string']).optional(),
      order: types(['string'], { enum: ['start-first', 'stop-first'] }).optional(),
    }).optional(),
    resources: strictX({
      limits: strictX({
        cpus: types(['number', 'string']).optional(),
        memory: types(['string']).optional(),
        pids: types(['integer', 'string']).optional(),
      }).optional(),
      reservations: strictX({
        cpus: types(['number', 'string']).optional(),
        memory: types(['string']).optional(),
        generic_resources: genericResourcesSchema.optional(),
        devices: devicesSchema.optional(),
      }).optional(),
    }).optional(),
    restart_policy: strictX({
      condition: types(['string']).optional(),
      delay: types(['string']).optional(),
      max_attempts: types(['integer', 'string']).optional(),
      window: types(['string']).optional(),
    }).optional(),
    placement: strictX({
      constraints: z.array(types(['string'])).optional(),
      preferences: z
        .array(
          strictX({
            spread: types(['string']).optional(),
          }),
        )
        .optional(),
      max_replicas_per_node: types(['integer', 'string']).optional(),
    }).optional(),
  }),
);

/** `$defs.extra_hosts`: Additional hostnames to be defined in the container's /etc/hosts file. */
export const extraHostsSchema: z.ZodType = z.union([
  namedMap('.+', z.union([types(['string']), z.array(types(['string']))])),
  uniqueList(types(['string'])),
]);

/** `$defs.service_config_or_secret`: Configuration for service configs or secrets, defining how they are mounted in the container. */
export const serviceConfigOrSecretSchema: z.ZodType = z.array(
  z.union([
    types(['string']),
    strictX({
      source: types(['string']).optional(),
      target: types(['string']).optional(),
      uid: types(['string']).optional(),
      gid: types(['string']).optional(),
      mode: types(['number', 'string']).optional(),
    }),
  ]),
);

/** `$defs.ulimits`: Container ulimit options, controlling resource limits for processes inside the container. */
export const ulimitsSchema: z.ZodType = openMap(
  '^[a-z]+$',
  z.union([
    types(['integer', 'string']),
    strictX({
      hard: types(['integer', 'string']),
      soft: types(['integer', 'string']),
    }),
  ]),
);

/** `$defs.blkio_limit`: Block IO limit for a specific device. */
export const blkioLimitSchema: z.ZodType = strict({
  path: types(['string']).optional(),
  rate: types(['integer', 'string']).optional(),
});

/** `$defs.blkio_weight`: Block IO weight for a specific device. */
export const blkioWeightSchema: z.ZodType = strict({
  path: types(['string']).optional(),
  weight: types(['integer', 'string']).optional(),
});

/** `$defs.env_file` */
export const envFileSchema: z.ZodType = z.union([
  types(['string']),
  z.array(
    z.union([
      types(['string']),
      strict({
        path: types(['string']),
        format: types(['string']).optional(),
        required: types(['boolean', 'string']).optional(),
      }),
    ]),
  ),
]);

/** `$defs.label_file` */
export const labelFileSchema: z.ZodType = z.union([types(['string']), z.array(types(['string']))]);

/** `$defs.gpus` */
export const gpusSchema: z.ZodType = z.union([
  types(['string'], { enum: ['all'] }),
  z.array(
    loose({
      capabilities: listOfStringsSchema.optional(),
      count: types(['string', 'integer']).optional(),
      device_ids: listOfStringsSchema.optional(),
      driver: types(['string']).optional(),
      options: listOrDictSchema.optional(),
    }),
  ),
]);

/** `$defs.healthcheck`: Configuration options to determine whether the container is healthy. */
export const healthcheckSchema: z.ZodType = strictX({
  disable: types(['boolean', 'string']).optional(),
  interval: types(['string']).optional(),
  retries: types(['number', 'string']).optional(),
  test: z.union([types(['string']), z.array(types(['string']))]).optional(),
  timeout: types(['string']).optional(),
  start_period: types(['string']).optional(),
  start_interval: types(['string']).optional(),
});

/** `$defs.pre_start_hook`: Configuration for a pre_start init container, run to completion before the service container starts. */
export const preStartHookSchema: z.ZodType = strictX({
  command: commandSchema.optional(),
  image: types(['string']).optional(),
  user: types(['string']).optional(),
  privileged: types(['boolean', 'string']).optional(),
  working_dir: types(['string']).optional(),
  environment: listOrDictSchema.optional(),
  per_replica: types(['boolean', 'string']).optional(),
});

/** `$defs.service`: Configuration for a service. */
export const serviceSchema: z.ZodType = strictX({
  develop: developmentSchema.optional(),
  deploy: deploymentSchema.optional(),
  annotations: listOrDictSchema.optional(),
  attach: types(['boolean', 'string']).optional(),
  build: z
    .union([
      types(['string']),
      strictX({
        context: types(['string']).optional(),
        dockerfile: types(['string']).optional(),
        dockerfile_inline: types(['string']).optional(),
        entitlements: z.array(types(['string'])).optional(),
        args: listOrDictSchema.optional(),
        ssh: listOrDictSchema.optional(),
        labels: listOrDictSchema.optional(),
        cache_from: z.array(types(['string'])).optional(),
        cache_to: z.array(types(['string'])).optional(),
        no_cache: types(['boolean', 'string']).optional(),
        no_cache_filter: stringOrListSchema.optional(),
        additional_contexts: listOrDictSchema.optional(),
        network: types(['string']).optional(),
        provenance: types(['string', 'boolean']).optional(),
        sbom: types(['string', 'boolean']).optional(),
        pull: types(['boolean', 'string']).optional(),
        target: types(['string']).optional(),
        shm_size: types(['integer', 'string']).optional(),
        extra_hosts: extraHostsSchema.optional(),
        isolation: types(['string']).optional(),
        privileged: types(['boolean', 'string']).optional(),
        secrets: serviceConfigOrSecretSchema.optional(),
        tags: z.array(types(['string'])).optional(),
        ulimits: ulimitsSchema.optional(),
        platforms: z.array(types(['string'])).optional(),
      }),
    ])
    .optional(),
  blkio_config: strict({
    device_read_bps: z.array(blkioLimitSchema).optional(),
    device_read_iops: z.array(blkioLimitSchema).optional(),
    device_write_bps: z.array(blkioLimitSchema).optional(),
    device_write_iops: z.array(blkioLimitSchema).optional(),
    weight: types(['integer', 'string']).optional(),
    weight_device: z.array(blkioWeightSchema).optional(),
  }).optional(),
  cap_add: uniqueList(types(['string'])).optional(),
  cap_drop: uniqueList(types(['string'])).optional(),
  cgroup: types(['string'], { enum: ['host', 'private'] }).optional(),
  cgroup_parent: types(['string']).optional(),
  command: commandSchema.optional(),
  configs: serviceConfigOrSecretSchema.optional(),
  container_name: types(['string'], { pattern: '[a-zA-Z0-9][a-zA-Z0-9_.-]+' }).optional(),
  cpu_count: z.union([types(['string']), types(['integer'], { minimum: 0 })]).optional(),
  cpu_percent: z
    .union([types(['string']), types(['integer'], { minimum: 0, maximum: 100 })])
    .optional(),
  cpu_shares: types(['number', 'string']).optional(),
  cpu_quota: types(['number', 'string']).optional(),
  cpu_period: types(['number', 'string']).optional(),
  cpu_rt_period: types(['number', 'string']).optional(),
  cpu_rt_runtime: types(['number', 'string']).optional(),
  cpus: types(['number', 'string']).optional(),
  cpuset: types(['string']).optional(),
  credential_spec: strictX({
    config: types(['string']).optional(),
    file: types(['string']).optional(),
    registry: types(['string']).optional(),
  }).optional(),
  depends_on: z
    .union([
      listOfStringsSchema,
      namedMap(
        '^[a-zA-Z0-9._-]+$',
        strictX({
          restart: types(['boolean', 'string']).optional(),
          required: types(['boolean']).optional(),
          condition: types(['string'], {
            enum: ['service_started', 'service_healthy', 'service_completed_successfully'],
          }),
        }),
      ),
    ])
    .optional(),
  device_cgroup_rules: listOfStringsSchema.optional(),
  devices: z
    .array(
      z.union([
        types(['string']),
        strictX({
          source: types(['string']),
          target: types(['string']).optional(),
          permissions: types(['string']).optional(),
        }),
      ]),
    )
    .optional(),
  dns: stringOrListSchema.optional(),
  dns_opt: uniqueList(types(['string'])).optional(),
  dns_search: stringOrListSchema.optional(),
  domainname: types(['string']).optional(),
  entrypoint: commandSchema.optional(),
  env_file: envFileSchema.optional(),
  label_file: labelFileSchema.optional(),
  environment: listOrDictSchema.optional(),
  expose: uniqueList(types(['string', 'number'])).optional(),
  extends: z
    .union([
      types(['string']),
      strict({
        service: types(['string']),
        file: types(['string']).optional(),
      }),
    ])
    .optional(),
  provider: strictX({
    type: types(['string']),
    options: openMap(
      '^.+$',
      z.union([
        types(['string', 'number', 'boolean']),
        z.array(types(['string', 'number', 'boolean'])),
      ]),
    ).optional(),
  }).optional(),
  external_links: uniqueList(types(['string'])).optional(),
  extra_hosts: extraHostsSchema.optional(),
  gpus: gpusSchema.optional(),
  group_add: uniqueList(types(['string', 'number'])).optional(),
  healthcheck: healthcheckSchema.optional(),
  hostname: types(['string']).optional(),
  image: types(['string']).optional(),
  init: types(['boolean', 'string']).optional(),
  ipc: types(['string']).optional(),
  isolation: types(['string']).optional(),
  labels: listOrDictSchema.optional(),
  links: uniqueList(types(['string'])).optional(),
  logging: strictX({
    driver: types(['string']).optional(),
    options: openMap('^.+$', types(['string', 'number', 'null'])).optional(),
  }).optional(),
  mac_address: types(['string']).optional(),
  mem_limit: types(['number', 'string']).optional(),
  mem_reservation: types(['string', 'integer']).optional(),
  mem_swappiness: types(['integer', 'string']).optional(),
  memswap_limit: types(['number', 'string']).optional(),
  network_mode: types(['string']).optional(),
  models: z
    .union([
      listOfStringsSchema,
      openMap(
        '^[a-zA-Z0-9._-]+$',
        z.union([
          strictX({
            endpoint_var: types(['string']).optional(),
            model_var: types(['string']).optional(),
          }),
          types(['null']),
        ]),
      ),
    ])
    .optional(),
  networks: z
    .union([
      listOfStringsSchema,
      namedMap(
        '^[a-zA-Z0-9._-]+$',
        z.union([
          strictX({
            aliases: listOfStringsSchema.optional(),
            interface_name: types(['string']).optional(),
            ipv4_address: types(['string']).optional(),
            ipv6_address: types(['string']).optional(),
            link_local_ips: listOfStringsSchema.optional(),
            mac_address: types(['string']).optional(),
            driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
            priority: types(['number']).optional(),
            gw_priority: types(['number']).optional(),
          }),
          types(['null']),
        ]),
      ),
    ])
    .optional(),
  oom_kill_disable: types(['boolean', 'string']).optional(),
  oom_score_adj: z
    .union([types(['string']), types(['integer'], { minimum: -1000, maximum: 1000 })])
    .optional(),
  pid: types(['string', 'null']).optional(),
  pids_limit: types(['number', 'string']).optional(),
  platform: types(['string']).optional(),
  ports: uniqueList(
    z.union([
      types(['number']),
      types(['string']),
      strictX({
        name: types(['string']).optional(),
        mode: types(['string']).optional(),
        host_ip: types(['string']).optional(),
        target: types(['integer', 'string']).optional(),
        published: types(['string', 'integer']).optional(),
        protocol: types(['string']).optional(),
        app_protocol: types(['string']).optional(),
      }),
    ]),
  ).optional(),
  pre_start: z.array(preStartHookSchema).optional(),
  post_start: z.array(serviceHookSchema).optional(),
  pre_stop: z.array(serviceHookSchema).optional(),
  privileged: types(['boolean', 'string']).optional(),
  profiles: listOfStringsSchema.optional(),
  pull_policy: types(['string'], {
    pattern:
      'always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+',
  }).optional(),
  pull_refresh_after: types(['string']).optional(),
  read_only: types(['boolean', 'string']).optional(),
  restart: types(['string']).optional(),
  runtime: types(['string']).optional(),
  scale: types(['integer', 'string']).optional(),
  security_opt: uniqueList(types(['string'])).optional(),
  shm_size: types(['number', 'string']).optional(),
  secrets: serviceConfigOrSecretSchema.optional(),
  sysctls: listOrDictSchema.optional(),
  stdin_open: types(['boolean', 'string']).optional(),
  stop_grace_period: types(['string']).optional(),
  stop_signal: types(['string']).optional(),
  storage_opt: anyMap().optional(),
  tmpfs: stringOrListSchema.optional(),
  tty: types(['boolean', 'string']).optional(),
  ulimits: ulimitsSchema.optional(),
  use_api_socket: types(['boolean']).optional(),
  user: types(['string']).optional(),
  uts: types(['string']).optional(),
  userns_mode: types(['string']).optional(),
  volumes: uniqueList(
    z.union([
      types(['string']),
      strictX({
        type: types(['string'], { enum: ['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'] }),
        source: types(['string']).optional(),
        target: types(['string']).optional(),
        read_only: types(['boolean', 'string']).optional(),
        consistency: types(['string']).optional(),
        bind: strictX({
          propagation: types(['string']).optional(),
          create_host_path: types(['boolean', 'string']).optional(),
          recursive: types(['string'], {
            enum: ['enabled', 'disabled', 'writable', 'readonly'],
          }).optional(),
          selinux: types(['string'], { enum: ['z', 'Z'] }).optional(),
        }).optional(),
        volume: strictX({
          labels: listOrDictSchema.optional(),
          nocopy: types(['boolean', 'string']).optional(),
          subpath: types(['string']).optional(),
        }).optional(),
        tmpfs: strictX({
          size: z.union([types(['integer'], { minimum: 0 }), types(['string'])]).optional(),
          mode: types(['number', 'string']).optional(),
        }).optional(),
        image: strictX({
          subpath: types(['string']).optional(),
        }).optional(),
      }),
    ]),
  ).optional(),
  volumes_from: uniqueList(types(['string'])).optional(),
  working_dir: types(['string']).optional(),
});

/** `$defs.include`: Compose application or sub-projects to be included. */
export const includeSchema: z.ZodType = z.union([
  types(['string']),
  strict({
    path: stringOrListSchema.optional(),
    env_file: stringOrListSchema.optional(),
    project_directory: types(['string']).optional(),
  }),
]);

/** `$defs.network`: Network configuration for the Compose application. */
export const networkSchema: z.ZodType = mixed(
  ['object', 'null'],
  strictX({
    name: types(['string']).optional(),
    driver: types(['string']).optional(),
    driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
    ipam: strictX({
      driver: types(['string']).optional(),
      config: z
        .array(
          strictX({
            subnet: types(['string']).optional(),
            ip_range: types(['string']).optional(),
            gateway: types(['string']).optional(),
            aux_addresses: namedMap('^.+$', types(['string'])).optional(),
          }),
        )
        .optional(),
      options: namedMap('^.+$', types(['string'])).optional(),
    }).optional(),
    external: mixed(
      ['boolean', 'string', 'object'],
      strictX({
        name: types(['string']).optional(),
      }),
    ).optional(),
    internal: types(['boolean', 'string']).optional(),
    enable_ipv4: types(['boolean', 'string']).optional(),
    enable_ipv6: types(['boolean', 'string']).optional(),
    attachable: types(['boolean', 'string']).optional(),
    labels: listOrDictSchema.optional(),
  }),
);

/** `$defs.volume`: Volume configuration for the Compose application. */
export const volumeSchema: z.ZodType = mixed(
  ['object', 'null'],
  strictX({
    name: types(['string']).optional(),
    driver: types(['string']).optional(),
    driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
    external: mixed(
      ['boolean', 'string', 'object'],
      strictX({
        name: types(['string']).optional(),
      }),
    ).optional(),
    labels: listOrDictSchema.optional(),
  }),
);

/** `$defs.secret`: Secret configuration for the Compose application. */
export const secretSchema: z.ZodType = strictX({
  name: types(['string']).optional(),
  environment: types(['string']).optional(),
  file: types(['string']).optional(),
  external: mixed(
    ['boolean', 'string', 'object'],
    loose({
      name: types(['string']).optional(),
    }),
  ).optional(),
  labels: listOrDictSchema.optional(),
  driver: types(['string']).optional(),
  driver_opts: openMap('^.+$', types(['string', 'number'])).optional(),
  template_driver: types(['string']).optional(),
});

/** `$defs.config`: Config configuration for the Compose application. */
export const configSchema: z.ZodType = strictX({
  name: types(['string']).optional(),
  content: types(['string']).optional(),
  environment: types(['string']).optional(),
  file: types(['string']).optional(),
  external: mixed(
    ['boolean', 'string', 'object'],
    loose({
      name: types(['string']).optional(),
    }),
  ).optional(),
  labels: listOrDictSchema.optional(),
  template_driver: types(['string']).optional(),
});

/** `$defs.model`: Language Model for the Compose application. */
export const modelSchema: z.ZodType = strictX({
  name: types(['string']).optional(),
  model: types(['string']),
  context_size: types(['integer']).optional(),
  runtime_flags: z.array(types(['string'])).optional(),
});

/** The whole compose file (compose_spec.json). */
export const composeFileSchema: z.ZodType = strictX({
  version: types(['string']).optional(),
  name: types(['string']).optional(),
  include: z.array(includeSchema).optional(),
  services: namedMap('^[a-zA-Z0-9._-]+$', serviceSchema).optional(),
  models: openMap('^[a-zA-Z0-9._-]+$', modelSchema).optional(),
  networks: openMap('^[a-zA-Z0-9._-]+$', networkSchema).optional(),
  volumes: namedMap('^[a-zA-Z0-9._-]+$', volumeSchema).optional(),
  secrets: namedMap('^[a-zA-Z0-9._-]+$', secretSchema).optional(),
  configs: namedMap('^[a-zA-Z0-9._-]+$', configSchema).optional(),
});
