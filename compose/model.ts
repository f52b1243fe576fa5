/**
 * The normalised Compose project: readonly types of what `docker compose config --format json`
 * prints. Key names are the Compose spec's own (snake_case: depends_on, env_file); see
 * docs/architecture.md. Types only; built by compose/normalize.ts, never mutated after.
 */

/** `x-*` extension keys kept on an object. */
export interface Extensible {
  readonly [x: `x-${string}`]: unknown;
}

/** Published port, long syntax (compose spec "ports"). `published` is a string (may be a range). */
export interface ServicePort extends Extensible {
  readonly name?: string;
  readonly mode?: string;
  readonly host_ip?: string;
  /** Container port. */
  readonly target: number;
  /** Host port or range (`"8080"`, `"8000-8010"`), absent when docker picks one. */
  readonly published?: string;
  readonly protocol?: string;
  readonly app_protocol?: string;
}

/** A mount, long syntax (compose spec "volumes"). */
export interface ServiceVolume extends Extensible {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'cluster' | 'npipe' | 'image';
  /** Absolute host path (bind), volume key (volume), image reference (image). */
  readonly source?: string;
  readonly target?: string;
  readonly read_only?: boolean;
  readonly consistency?: string;
  readonly bind?: {
    readonly propagation?: string;
    readonly create_host_path?: boolean;
    readonly recursive?: string;
    readonly selinux?: 'z' | 'Z';
  };
  readonly volume?: {
    readonly labels?: Record<string, string>;
    readonly nocopy?: boolean;
    readonly subpath?: string;
  };
  /** `size` in bytes. `mode` is a numeric file mode. */
  readonly tmpfs?: { readonly size?: number; readonly mode?: number };
  readonly image?: { readonly subpath?: string };
}

/** `depends_on` long syntax entry. */
export interface DependsOn extends Extensible {
  readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  readonly restart?: boolean;
  readonly required: boolean;
}

/** `build` long syntax; `context` is absolute unless it is a URL. */
export interface BuildConfig extends Extensible {
  readonly context?: string;
  readonly dockerfile?: string;
  readonly dockerfile_inline?: string;
  readonly args?: Record<string, string | null>;
  readonly ssh?: readonly string[];
  readonly labels?: Record<string, string>;
  readonly cache_from?: readonly string[];
  readonly cache_to?: readonly string[];
  readonly no_cache?: boolean;
  readonly additional_contexts?: Record<string, string>;
  readonly network?: string;
  readonly pull?: boolean;
  readonly target?: string;
  readonly shm_size?: number;
  readonly extra_hosts?: readonly string[];
  readonly isolation?: string;
  readonly privileged?: boolean;
  readonly secrets?: readonly FileReference[];
  readonly tags?: readonly string[];
  readonly ulimits?: Record<string, Ulimit>;
  readonly platforms?: readonly string[];
  readonly [key: string]: unknown;
}

/** Healthcheck; durations are Go duration strings (`1m30s`). */
export interface Healthcheck extends Extensible {
  readonly test?: readonly string[];
  readonly timeout?: string;
  readonly interval?: string;
  readonly retries?: number;
  readonly start_period?: string;
  readonly start_interval?: string;
  readonly disable?: boolean;
}

/** A service's attachment to a network (`null` when declared without options). */
export interface ServiceNetwork extends Extensible {
  readonly aliases?: readonly string[];
  readonly ipv4_address?: string;
  readonly ipv6_address?: string;
  readonly link_local_ips?: readonly string[];
  readonly mac_address?: string;
  readonly driver_opts?: Record<string, string>;
  readonly priority?: number;
  readonly gw_priority?: number;
  readonly interface_name?: string;
}

/** A secret/config grant on a service; `mode` is numeric (rendered octal, `"0440"`). */
export interface FileReference extends Extensible {
  readonly source: string;
  readonly target?: string;
  readonly uid?: string;
  readonly gid?: string;
  readonly mode?: number;
}

/** An ulimit: one number for soft=hard, or both. */
export type Ulimit = number | { readonly soft: number; readonly hard: number };

/** One `env_file` entry; `path` absolute. */
export interface EnvFile {
  readonly path: string;
  readonly required: boolean;
  readonly format?: string;
}

/** Device mapping long form (`/dev/a:/dev/b:rwm`). */
export interface DeviceMapping {
  readonly source: string;
  readonly target?: string;
  readonly permissions?: string;
}

/** Deploy section; durations are Go strings. */
export interface Deploy extends Extensible {
  readonly mode?: string;
  readonly replicas?: number;
  readonly labels?: Record<string, string>;
  readonly resources?: {
    readonly limits?: Resource;
    readonly reservations?: Resource;
  };
  readonly restart_policy?: {
    readonly condition?: string;
    readonly delay?: string;
    readonly max_attempts?: number;
    readonly window?: string;
  };
  readonly [key: string]: unknown;
}

/** deploy.resources.{limits,reservations}: `memory` in bytes, `cpus` as a number. */
export interface Resource extends Extensible {
  readonly cpus?: number;
  readonly memory?: number;
  readonly pids?: number;
  readonly devices?: readonly Record<string, unknown>[];
  readonly generic_resources?: readonly Record<string, unknown>[];
}

/**
 * A normalised service. Byte sizes (mem_limit, shm_size, ...) are numbers of bytes (render prints
 * them as decimal strings, as `config --format json` does); durations are Go duration strings;
 * environment values are resolved (null = declared but unset).
 */
export interface Service extends Extensible {
  readonly profiles?: readonly string[];
  readonly annotations?: Record<string, string>;
  readonly build?: BuildConfig;
  readonly cap_add?: readonly string[];
  readonly cap_drop?: readonly string[];
  readonly cgroup?: string;
  readonly cgroup_parent?: string;
  readonly command?: readonly string[] | null;
  readonly configs?: readonly FileReference[];
  readonly container_name?: string;
  readonly cpus?: number;
  readonly cpu_shares?: number;
  readonly depends_on?: Record<string, DependsOn>;
  readonly deploy?: Deploy;
  readonly devices?: readonly DeviceMapping[];
  readonly dns?: readonly string[];
  readonly dns_opt?: readonly string[];
  readonly dns_search?: readonly string[];
  readonly domainname?: string;
  readonly entrypoint?: readonly string[] | null;
  readonly environment?: Record<string, string | null>;
  readonly env_file?: readonly EnvFile[];
  readonly expose?: readonly string[];
  readonly external_links?: readonly string[];
  readonly extra_hosts?: readonly string[];
  readonly group_add?: readonly string[];
  readonly hostname?: string;
  readonly healthcheck?: Healthcheck;
  readonly image?: string;
  readonly init?: boolean;
  readonly ipc?: string;
  readonly labels?: Record<string, string>;
  readonly links?: readonly string[];
  readonly logging?: { readonly driver?: string; readonly options?: Record<string, string | null> };
  readonly mem_limit?: number;
  readonly mem_reservation?: number;
  readonly memswap_limit?: number;
  readonly mem_swappiness?: number;
  readonly network_mode?: string;
  readonly networks?: Record<string, ServiceNetwork | null>;
  readonly oom_kill_disable?: boolean;
  readonly oom_score_adj?: number;
  readonly pid?: string | null;
  readonly pids_limit?: number;
  readonly platform?: string;
  readonly ports?: readonly ServicePort[];
  readonly privileged?: boolean;
  readonly pull_policy?: string;
  readonly read_only?: boolean;
  readonly restart?: string;
  readonly runtime?: string;
  readonly scale?: number;
  readonly secrets?: readonly FileReference[];
  readonly security_opt?: readonly string[];
  readonly shm_size?: number;
  readonly stdin_open?: boolean;
  readonly stop_grace_period?: string;
  readonly stop_signal?: string;
  readonly sysctls?: Record<string, string>;
  readonly tmpfs?: readonly string[];
  readonly tty?: boolean;
  readonly ulimits?: Record<string, Ulimit>;
  readonly user?: string;
  readonly userns_mode?: string;
  readonly uts?: string;
  readonly volumes?: readonly ServiceVolume[];
  readonly volumes_from?: readonly string[];
  readonly working_dir?: string;
  readonly [key: string]: unknown;
}

/** A top-level network; `name` is the engine name (`<project>_<key>` unless set or external). */
export interface Network extends Extensible {
  readonly name?: string;
  readonly driver?: string;
  readonly driver_opts?: Record<string, string>;
  readonly ipam?: {
    readonly driver?: string;
    readonly config?: readonly {
      readonly subnet?: string;
      readonly ip_range?: string;
      readonly gateway?: string;
      readonly aux_addresses?: Record<string, string>;
    }[];
    readonly options?: Record<string, string>;
  };
  readonly external?: boolean;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly enable_ipv4?: boolean;
  readonly enable_ipv6?: boolean;
  readonly labels?: Record<string, string>;
}

/** A top-level volume. */
export interface Volume extends Extensible {
  readonly name?: string;
  readonly driver?: string;
  readonly driver_opts?: Record<string, string>;
  readonly external?: boolean;
  readonly labels?: Record<string, string>;
}

/** A top-level secret or config; `file` is absolute. */
export interface FileObject extends Extensible {
  readonly name?: string;
  readonly file?: string;
  readonly environment?: string;
  readonly content?: string;
  readonly external?: boolean;
  readonly labels?: Record<string, string>;
  readonly driver?: string;
  readonly driver_opts?: Record<string, string>;
  readonly template_driver?: string;
}

/** A top-level model (compose spec "models"). */
export interface Model extends Extensible {
  readonly name?: string;
  readonly model?: string;
  readonly context_size?: number;
  readonly runtime_flags?: readonly string[];
}

/** The normalised, frozen project (compose-go `types.Project` as `config` prints it). */
export interface Project {
  readonly name: string;
  readonly services: Readonly<Record<string, Service>>;
  readonly networks?: Readonly<Record<string, Network>>;
  readonly volumes?: Readonly<Record<string, Volume>>;
  readonly secrets?: Readonly<Record<string, FileObject>>;
  readonly configs?: Readonly<Record<string, FileObject>>;
  readonly models?: Readonly<Record<string, Model>>;
  readonly [x: `x-${string}`]: unknown;
}
