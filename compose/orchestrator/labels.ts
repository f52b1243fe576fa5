/**
 * Every `com.docker.compose.*` label docker compose v2 sets on what it creates (pkg/api/labels.go),
 * so `docker compose` and other tools recognise our containers, networks and volumes.
 * Constants only; no logic beyond building label filters.
 */

/** Prefix shared by every compose label. */
export const LABEL_PREFIX = 'com.docker.compose';
/** The project name; the filter key of every observe call. */
export const PROJECT_LABEL = 'com.docker.compose.project';
/** The service key a container belongs to. */
export const SERVICE_LABEL = 'com.docker.compose.service';
/** The replica number (1-based, decimal string) of a service container. */
export const CONTAINER_NUMBER_LABEL = 'com.docker.compose.container-number';
/** `True` on containers made by `run` (one-off), `False` on service containers. */
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';
/** The service config hash (compose/hash.ts); a difference forces a recreate. */
export const CONFIG_HASH_LABEL = 'com.docker.compose.config-hash';
/** The absolute project directory. */
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
/** The compose files loaded, comma-joined. */
export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
/** The env files used for interpolation, comma-joined. */
export const ENV_FILE_LABEL = 'com.docker.compose.project.environment_file';
/** The version of the tool that created the resource. */
export const VERSION_LABEL = 'com.docker.compose.version';
/** The image digest (or ID) the container was created from. */
export const IMAGE_LABEL = 'com.docker.compose.image';
/** The service's dependencies, `svc:condition:restart` comma-joined. */
export const DEPENDENCIES_LABEL = 'com.docker.compose.depends_on';
/** The network's key in the compose file (on networks). */
export const NETWORK_LABEL = 'com.docker.compose.network';
/** The volume's key in the compose file (on volumes). */
export const VOLUME_LABEL = 'com.docker.compose.volume';
/** On a replacement container: the container it replaces (during a recreate). */
export const REPLACE_LABEL = 'com.docker.compose.replace';
/** The compose spec slug of the container (one-off run containers). */
export const SLUG_LABEL = 'com.docker.compose.slug';

/** The version string written into {@link VERSION_LABEL}. */
export const TOOL_VERSION = '2.40.0';

/** The Docker Engine API list filter selecting one project: `{label: [project=<name>]}`. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${PROJECT_LABEL}=${project}`] };
}
