/*
 * Shared declarations of the tscompose-shim executable: the handshake records (documented in
 * docs/native.md), the error record the init sends before execve, and the stage/op numbers that
 * native/launch-spec.ts mirrors (SETUP_STAGES, SETUP_OPS). Numbers are ABI: append, never reorder.
 */
#ifndef TSC_SHIM_H
#define TSC_SHIM_H

#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

/* Where the init was when it failed. */
enum tsc_stage {
  ST_SPEC = 1,
  ST_NAMESPACES = 2,
  ST_ID_MAPS = 3,
  ST_CGROUP = 4,
  ST_ROOTFS = 5,
  ST_MOUNT = 6,
  ST_DEVICE = 7,
  ST_SYMLINK = 8,
  ST_PIVOT = 9,
  ST_READONLY_PATH = 10,
  ST_MASKED_PATH = 11,
  ST_HOSTNAME = 12,
  ST_SYSCTL = 13,
  ST_RLIMIT = 14,
  ST_OOM_SCORE = 15,
  ST_CAPABILITIES = 16,
  ST_USER = 17,
  ST_CWD = 18,
  ST_EXEC = 19,
  ST_STDIO = 20,
};

/* Which call failed. */
enum tsc_op {
  OP_READ = 1,
  OP_WRITE = 2,
  OP_OPEN = 3,
  OP_MOUNT = 4,
  OP_UMOUNT2 = 5,
  OP_MKDIR = 6,
  OP_MKNOD = 7,
  OP_SYMLINK = 8,
  OP_CHDIR = 9,
  OP_PIVOT_ROOT = 10,
  OP_SETHOSTNAME = 11,
  OP_SETDOMAINNAME = 12,
  OP_SETRLIMIT = 13,
  OP_PRCTL = 14,
  OP_CAPSET = 15,
  OP_SETGROUPS = 16,
  OP_SETRESGID = 17,
  OP_SETRESUID = 18,
  OP_EXECVE = 19,
  OP_EXEC_SEARCH = 20, /* no file named argv[0] in any PATH directory */
  OP_UNSHARE = 21,
  OP_CLONE = 22,
  OP_SETNS = 23,
  OP_CHOWN = 24,
  OP_CHMOD = 25,
  OP_DUP2 = 26,
  OP_SETSID = 27,
  OP_IOCTL = 28,
  OP_REMOUNT = 29,
  OP_PROPAGATION = 30,
};

#define TSC_ERR_MAGIC 0x52435354u /* "TSCR" */

/* Sent by the init (or exec child) over its CLOEXEC socket when setup fails; EOF means exec'd. */
struct tsc_errrec {
  uint32_t magic;
  uint32_t stage;     /* enum tsc_stage */
  uint32_t op;        /* enum tsc_op */
  int32_t err;        /* errno */
  int32_t arg;        /* index into the spec list the stage walks (mounts, devices...), or -1 */
  uint32_t exit_code; /* 125 setup, 126 not executable, 127 not found */
};

/* Shim -> engine messages on fd 3 (32 bytes each). */
enum tsc_msg_type { MSG_PID = 1, MSG_EXEC_OK = 2, MSG_ERROR = 3 };

struct tsc_msg {
  uint32_t type;
  int32_t pid;      /* MSG_PID: init pid (host view) */
  int32_t shim_pid; /* MSG_PID: the shim's pid */
  uint32_t stage;   /* MSG_ERROR: the error record */
  uint32_t op;
  int32_t err;
  int32_t arg;
  uint32_t exit_code;
};

/* Engine -> shim: one byte. */
#define TSC_GO 'G'

/* init.c: the container side. Never returns. */
void tsc_init_main(const struct tsc_spec *s, int sync_fd, int in_fd, int out_fd, int err_fd)
    __attribute__((noreturn));
/* init.c: the exec child after setns+fork. Never returns. */
void tsc_exec_child(const struct tsc_spec *s, int err_fd) __attribute__((noreturn));
/* init.c: report a failure (errno taken from the caller) and _exit. */
void tsc_fail(int fd, uint32_t stage, uint32_t op, int arg) __attribute__((noreturn));

/* jsonlog.c: Docker json-file writer with rotation. */
struct tsc_jsonlog;
struct tsc_jsonlog *tsc_jsonlog_open(const char *path, uint64_t max_size, uint32_t max_file);
/* Feeds bytes from one stream ("stdout"/"stderr"); writes complete lines, buffers the rest. */
void tsc_jsonlog_feed(struct tsc_jsonlog *l, int stream, const char *p, size_t n);
/* Flushes a stream's partial line at EOF. */
void tsc_jsonlog_flush(struct tsc_jsonlog *l, int stream);
void tsc_jsonlog_close(struct tsc_jsonlog *l);

/* RFC3339Nano UTC (Go format: trailing zeros of the fraction trimmed) of the current time. */
void tsc_rfc3339nano(char *out, size_t size);

#endif
