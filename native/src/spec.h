/*
 * The LaunchSpec: the fully resolved description of one container init (or one exec), and its
 * versioned binary codec. One implementation, shared by the addon (encode) and the shim (decode).
 * No policy here: every default, path join and choice was made in TypeScript (native/launch-spec.ts).
 */
#ifndef TSC_SPEC_H
#define TSC_SPEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSC_SPEC_MAGIC 0x4c435354u /* "TSCL" little-endian */
#define TSC_SPEC_VERSION 3u
#define TSC_SPEC_HEADER_SIZE 16u
#define TSC_SPEC_MAX_SIZE (16u * 1024u * 1024u)

enum tsc_spec_kind { TSC_KIND_LAUNCH = 1, TSC_KIND_EXEC = 2 };

/* How a mount entry is carried out. */
enum tsc_mount_kind {
  TSC_MNT_FS = 1,      /* mount(source, target, fstype, flags, data) then propagation */
  TSC_MNT_BIND = 2,    /* MS_BIND[|MS_REC], then MS_REMOUNT|MS_BIND|flags when flags != 0 */
  TSC_MNT_REMOUNT = 3, /* mount(NULL, target, NULL, MS_REMOUNT|flags, data) */
};

/* What to create at the target before mounting. */
enum tsc_mountpoint { TSC_MP_NONE = 0, TSC_MP_DIR = 1, TSC_MP_FILE = 2 };

enum tsc_device_kind { TSC_DEV_MKNOD = 1, TSC_DEV_BIND = 2 };

struct tsc_strv {
  uint32_t n;
  const char **v; /* n entries then NULL */
};

struct tsc_ns_join {
  uint32_t nstype; /* CLONE_NEW* */
  const char *path;
};

struct tsc_idmap {
  uint32_t container_id, host_id, size;
};

struct tsc_mount_entry {
  uint32_t kind;       /* enum tsc_mount_kind */
  uint32_t mountpoint; /* enum tsc_mountpoint */
  const char *source, *target, *fstype, *data;
  uint64_t flags;       /* MS_* */
  uint64_t propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE [|MS_REC], 0 = leave */
};

struct tsc_device {
  uint32_t kind; /* enum tsc_device_kind */
  const char *target, *source;
  uint32_t mode; /* S_IFCHR|S_IFBLK | permission bits */
  uint32_t major, minor, uid, gid;
};

struct tsc_symlink {
  const char *target, *path;
};

struct tsc_sysctl {
  const char *path, *value;
};

struct tsc_rlimit {
  uint32_t resource;
  uint64_t soft, hard; /* UINT64_MAX = RLIM_INFINITY */
};

struct tsc_spec {
  uint32_t version, kind;
  const char *id;
  /* launch: files the shim writes */
  const char *exit_path, *log_path;
  const char *stdin_path; /* FIFO the init reads as stdin (the engine holds a writer); "" = /dev/null */
  uint64_t log_max_size; /* bytes, 0 = unlimited */
  uint32_t log_max_file;
  const char *oom_file, *oom_key; /* counter file and key read before and after; "" = none */
  /* namespaces */
  uint32_t clone_flags; /* CLONE_NEW* given to clone; CLONE_NEWCGROUP is unshared after "go" */
  uint32_t n_joins;
  struct tsc_ns_join *joins;
  uint32_t n_uid_maps, n_gid_maps;
  struct tsc_idmap *uid_maps, *gid_maps;
  /* cgroup membership files: launch = the init writes "0" into each (v1 tasks, v2 cgroup.procs)
   * right after "go", before anything else, while the host's /sys/fs/cgroup is still its view;
   * exec = cgroup.procs files the exec shim writes its pid into */
  struct tsc_strv cgroup_procs;
  /* filesystem */
  const char *rootfs;
  uint64_t root_propagation;
  uint32_t readonly_rootfs;
  uint32_t n_mounts;
  struct tsc_mount_entry *mounts;
  uint32_t n_devices;
  struct tsc_device *devices;
  uint32_t n_symlinks;
  struct tsc_symlink *symlinks;
  struct tsc_strv masked_paths, readonly_paths;
  const char *null_device; /* the path bound over masked files ("/dev/null" in the container) */
  /* process */
  const char *hostname, *domainname; /* "" = leave */
  uint32_t n_sysctls;
  struct tsc_sysctl *sysctls;
  uint32_t n_rlimits;
  struct tsc_rlimit *rlimits;
  uint32_t set_oom_score_adj;
  int32_t oom_score_adj;
  uint32_t umask;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  uint32_t no_new_privs;
  uint32_t uid, gid;
  uint32_t n_groups;
  uint32_t *groups;
  const char *cwd;
  uint32_t tty; /* exec only: allocate a pty */
  struct tsc_strv argv, env;
};

/* A growable output buffer for the encoder. */
struct tsc_buf {
  uint8_t *p;
  size_t len, cap;
  int failed;
};

/* Encodes spec into out (malloc'd; caller frees out->p). Returns 0 or -ENOMEM. */
int tsc_spec_encode(const struct tsc_spec *spec, struct tsc_buf *out);

/*
 * Decodes blob (which must stay alive: strings point into it) into spec. Arrays are malloc'd;
 * release them with tsc_spec_free. Returns 0, or -EINVAL (malformed) / -EPROTO (other version).
 */
int tsc_spec_decode(const uint8_t *blob, size_t len, struct tsc_spec *spec);

/* Frees the arrays tsc_spec_decode allocated (not the blob). */
void tsc_spec_free(struct tsc_spec *spec);

/* Reads the total length from a 16-byte header; 0 when the header is not ours. */
uint32_t tsc_spec_total_length(const uint8_t *header);

#ifdef __cplusplus
}
#endif

#endif
