/*
 * The container side of the shim: what the init does between "go" and execve (runc's order:
 * rootfs, mounts, devices, pivot_root, hostname, sysctls, read-only and masked paths, rlimits,
 * user, capabilities, cwd, exec), and the same finalisation for an exec'd process. Every failure
 * becomes a fixed tsc_errrec on the CLOEXEC sync socket; no messages are formatted here.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

void tsc_fail(int fd, uint32_t stage, uint32_t op, int arg) {
  int e = errno;
  uint32_t code = 125;
  if (stage == ST_EXEC) {
    if (op == OP_EXEC_SEARCH || e == ENOENT || e == ENOTDIR) code = 127;
    else if (e == EACCES || e == EPERM || e == EISDIR || e == ENOEXEC) code = 126;
  }
  struct tsc_errrec rec = {TSC_ERR_MAGIC, stage, op, e, arg, code};
  ssize_t r = write(fd, &rec, sizeof rec);
  (void)r;
  _exit((int)code);
}

static const char *nz(const char *s) { return s && s[0] ? s : NULL; }

/* mkdir -p; existing directories are fine. */
static int mkdir_p(const char *path, mode_t mode) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char c = buf[i];
    buf[i] = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    buf[i] = c;
  }
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

static int make_file(const char *path) {
  char dir[4096];
  size_t n = strlen(path);
  if (n >= sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, path, n + 1);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    if (mkdir_p(dir, 0755) < 0) return -1;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == EISDIR || errno == ELOOP) return 0;
    return -1;
  }
  close(fd);
  return 0;
}

static void do_mounts(const struct tsc_spec *s, int fd) {
  for (uint32_t i = 0; i < s->n_mounts; i++) {
    const struct tsc_mount_entry *m = &s->mounts[i];
    int r = 0;
    if (m->mountpoint == TSC_MP_DIR) r = mkdir_p(m->target, 0755);
    else if (m->mountpoint == TSC_MP_FILE) r = make_file(m->target);
    if (r < 0) tsc_fail(fd, ST_MOUNT, OP_MKDIR, (int)i);
    switch (m->kind) {
      case TSC_MNT_FS:
        if (mount(nz(m->source), m->target, nz(m->fstype), m->flags, nz(m->data)) < 0)
          tsc_fail(fd, ST_MOUNT, OP_MOUNT, (int)i);
        break;
      case TSC_MNT_BIND: {
        if (mount(m->source, m->target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
          tsc_fail(fd, ST_MOUNT, OP_MOUNT, (int)i);
        unsigned long rest = m->flags & ~(unsigned long)(MS_REC | MS_BIND);
        if (rest && mount(NULL, m->target, NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0)
          tsc_fail(fd, ST_MOUNT, OP_REMOUNT, (int)i);
        break;
      }
      case TSC_MNT_REMOUNT:
        if (mount(NULL, m->target, NULL, MS_REMOUNT | m->flags, nz(m->data)) < 0)
          tsc_fail(fd, ST_MOUNT, OP_REMOUNT, (int)i);
        break;
      default:
        errno = EINVAL;
        tsc_fail(fd, ST_MOUNT, OP_MOUNT, (int)i);
    }
    if (m->propagation && mount(NULL, m->target, NULL, m->propagation, NULL) < 0)
      tsc_fail(fd, ST_MOUNT, OP_PROPAGATION, (int)i);
  }
}

static void do_devices(const struct tsc_spec *s, int fd) {
  for (uint32_t i = 0; i < s->n_devices; i++) {
    const struct tsc_device *d = &s->devices[i];
    if (d->kind == TSC_DEV_BIND) {
      if (make_file(d->target) < 0) tsc_fail(fd, ST_DEVICE, OP_OPEN, (int)i);
      if (mount(d->source, d->target, NULL, MS_BIND, NULL) < 0)
        tsc_fail(fd, ST_DEVICE, OP_MOUNT, (int)i);
      continue;
    }
    if (mknod(d->target, d->mode, makedev(d->major, d->minor)) < 0 && errno != EEXIST)
      tsc_fail(fd, ST_DEVICE, OP_MKNOD, (int)i);
    if (chmod(d->target, d->mode & 07777) < 0) tsc_fail(fd, ST_DEVICE, OP_CHMOD, (int)i);
    if (chown(d->target, d->uid, d->gid) < 0) tsc_fail(fd, ST_DEVICE, OP_CHOWN, (int)i);
  }
  for (uint32_t i = 0; i < s->n_symlinks; i++) {
    if (symlink(s->symlinks[i].target, s->symlinks[i].path) < 0 && errno != EEXIST)
      tsc_fail(fd, ST_SYMLINK, OP_SYMLINK, (int)i);
  }
}

static void do_pivot(const struct tsc_spec *s, int fd) {
  int newroot = open(s->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) tsc_fail(fd, ST_PIVOT, OP_OPEN, -1);
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) tsc_fail(fd, ST_PIVOT, OP_OPEN, -1);
  if (fchdir(newroot) < 0) tsc_fail(fd, ST_PIVOT, OP_CHDIR, -1);
  if (syscall(SYS_pivot_root, ".", ".") < 0) tsc_fail(fd, ST_PIVOT, OP_PIVOT_ROOT, -1);
  if (fchdir(oldroot) < 0) tsc_fail(fd, ST_PIVOT, OP_CHDIR, -1);
  /* keep the unmount of the old root from propagating to the host */
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    tsc_fail(fd, ST_PIVOT, OP_PROPAGATION, -1);
  if (umount2(".", MNT_DETACH) < 0) tsc_fail(fd, ST_PIVOT, OP_UMOUNT2, -1);
  if (chdir("/") < 0) tsc_fail(fd, ST_PIVOT, OP_CHDIR, -1);
  close(newroot);
  close(oldroot);
  if (s->readonly_rootfs &&
      mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    tsc_fail(fd, ST_PIVOT, OP_REMOUNT, -1);
}

static void do_paths(const struct tsc_spec *s, int fd) {
  for (uint32_t i = 0; i < s->readonly_paths.n; i++) {
    const char *p = s->readonly_paths.v[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      tsc_fail(fd, ST_READONLY_PATH, OP_MOUNT, (int)i);
    }
    unsigned long fl = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount(NULL, p, NULL, fl, NULL) < 0) tsc_fail(fd, ST_READONLY_PATH, OP_REMOUNT, (int)i);
  }
  for (uint32_t i = 0; i < s->masked_paths.n; i++) {
    const char *p = s->masked_paths.v[i];
    struct stat st;
    if (stat(p, &st) < 0) {
      if (errno == ENOENT) continue;
      tsc_fail(fd, ST_MASKED_PATH, OP_OPEN, (int)i);
    }
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
                                : mount(s->null_device, p, NULL, MS_BIND, NULL);
    if (r < 0) tsc_fail(fd, ST_MASKED_PATH, OP_MOUNT, (int)i);
  }
}

static void write_file(const char *path, const char *value, int fd, uint32_t stage, int arg) {
  int f = open(path, O_WRONLY | O_CLOEXEC);
  if (f < 0) tsc_fail(fd, stage, OP_OPEN, arg);
  size_t n = strlen(value);
  if (write(f, value, n) != (ssize_t)n) tsc_fail(fd, stage, OP_WRITE, arg);
  close(f);
}

/* user, groups, capabilities, no_new_privs, cwd, then execve; shared by init and exec. */
static void finalize_and_exec(const struct tsc_spec *s, int fd) __attribute__((noreturn));
static void finalize_and_exec(const struct tsc_spec *s, int fd) {
  if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    tsc_fail(fd, ST_CAPABILITIES, OP_PRCTL, -1);
  for (int c = 0; c < 64; c++) {
    if (s->cap_bounding & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      tsc_fail(fd, ST_CAPABILITIES, OP_PRCTL, c);
    }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) tsc_fail(fd, ST_USER, OP_PRCTL, -1);
  if (setgroups(s->n_groups, (const gid_t *)s->groups) < 0) tsc_fail(fd, ST_USER, OP_SETGROUPS, -1);
  if (setresgid(s->gid, s->gid, s->gid) < 0) tsc_fail(fd, ST_USER, OP_SETRESGID, -1);
  if (setresuid(s->uid, s->uid, s->uid) < 0) tsc_fail(fd, ST_USER, OP_SETRESUID, -1);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) tsc_fail(fd, ST_USER, OP_PRCTL, -1);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(s->cap_effective >> (32 * i));
    data[i].permitted = (uint32_t)(s->cap_permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(s->cap_inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) tsc_fail(fd, ST_CAPABILITIES, OP_CAPSET, -1);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    tsc_fail(fd, ST_CAPABILITIES, OP_PRCTL, -1);
  for (int c = 0; c < 64; c++) {
    if (!(s->cap_ambient & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      tsc_fail(fd, ST_CAPABILITIES, OP_PRCTL, c);
  }
  if (s->cwd[0] && chdir(s->cwd) < 0) tsc_fail(fd, ST_CWD, OP_CHDIR, -1);

  sigset_t all;
  sigemptyset(&all);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &all, NULL);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  const char *file = s->argv.v[0];
  char *const *argv = (char *const *)s->argv.v;
  char *const *envp = (char *const *)s->env.v;
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    tsc_fail(fd, ST_EXEC, OP_EXECVE, -1);
  }
  /* resolve argv[0] with the container's PATH (the one in envp, not ours) */
  const char *path = "";
  for (uint32_t i = 0; i < s->env.n; i++)
    if (strncmp(s->env.v[i], "PATH=", 5) == 0) path = s->env.v[i] + 5;
  int denied = 0;
  char buf[4096];
  while (*path) {
    const char *end = strchr(path, ':');
    size_t dl = end ? (size_t)(end - path) : strlen(path);
    if (dl + strlen(file) + 2 < sizeof buf) {
      memcpy(buf, path, dl);
      buf[dl] = '/';
      strcpy(buf + dl + 1, file);
      execve(buf, argv, envp);
      if (errno == EACCES) denied = 1;
      else if (errno != ENOENT && errno != ENOTDIR) tsc_fail(fd, ST_EXEC, OP_EXECVE, -1);
    }
    path += dl + (end ? 1 : 0);
  }
  errno = denied ? EACCES : ENOENT;
  tsc_fail(fd, ST_EXEC, denied ? OP_EXECVE : OP_EXEC_SEARCH, -1);
}

void tsc_init_main(const struct tsc_spec *s, int fd, int in_fd, int out_fd, int err_fd) {
  prctl(PR_SET_NAME, "tsc:[init]", 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  char go = 0;
  if (read(fd, &go, 1) != 1 || go != TSC_GO) _exit(125);

  /*
   * Join the container's cgroups before anything else (runc joins before setns/exec): still in
   * the host's cgroup namespace and with the host's /sys/fs/cgroup in view. Single-threaded, we
   * write "0" (ourselves) into v1 `tasks`: a thread moving itself skips the threadgroup rwsem whose
   * write lock waits out an RCU grace period, as a move from outside does (~9-12 ms on v1).
   */
  for (uint32_t i = 0; i < s->cgroup_procs.n; i++) {
    int f = open(s->cgroup_procs.v[i], O_WRONLY | O_CLOEXEC);
    if (f < 0) tsc_fail(fd, ST_CGROUP, OP_OPEN, (int)i);
    if (write(f, "0", 1) != 1) tsc_fail(fd, ST_CGROUP, OP_WRITE, (int)i);
    close(f);
  }
  if (setsid() < 0) tsc_fail(fd, ST_STDIO, OP_SETSID, -1);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
    tsc_fail(fd, ST_STDIO, OP_DUP2, -1);
  /* in a new user namespace our host ids are unmapped until we become its root (maps are written) */
  if (s->clone_flags & CLONE_NEWUSER) {
    if (setresgid(0, 0, 0) < 0) tsc_fail(fd, ST_ID_MAPS, OP_SETRESGID, -1);
    if (setresuid(0, 0, 0) < 0) tsc_fail(fd, ST_ID_MAPS, OP_SETRESUID, -1);
  }
  if ((s->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
    tsc_fail(fd, ST_NAMESPACES, OP_UNSHARE, -1);

  if (s->rootfs[0]) {
    if (mount(NULL, "/", NULL, s->root_propagation, NULL) < 0)
      tsc_fail(fd, ST_ROOTFS, OP_PROPAGATION, -1);
    if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
      tsc_fail(fd, ST_ROOTFS, OP_MOUNT, -1);
    do_mounts(s, fd);
    do_devices(s, fd);
    do_pivot(s, fd);
  }
  if (s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0)
    tsc_fail(fd, ST_HOSTNAME, OP_SETHOSTNAME, -1);
  if (s->domainname[0] && setdomainname(s->domainname, strlen(s->domainname)) < 0)
    tsc_fail(fd, ST_HOSTNAME, OP_SETDOMAINNAME, -1);
  for (uint32_t i = 0; i < s->n_sysctls; i++)
    write_file(s->sysctls[i].path, s->sysctls[i].value, fd, ST_SYSCTL, (int)i);
  do_paths(s, fd);
  for (uint32_t i = 0; i < s->n_rlimits; i++) {
    struct rlimit rl = {(rlim_t)s->rlimits[i].soft, (rlim_t)s->rlimits[i].hard};
    if (setrlimit((int)s->rlimits[i].resource, &rl) < 0) tsc_fail(fd, ST_RLIMIT, OP_SETRLIMIT, (int)i);
  }
  if (s->set_oom_score_adj) {
    char v[16];
    snprintf(v, sizeof v, "%d", s->oom_score_adj);
    write_file("/proc/self/oom_score_adj", v, fd, ST_OOM_SCORE, -1);
  }
  umask(s->umask);
  if (s->cwd[0] && mkdir_p(s->cwd, 0755) < 0) tsc_fail(fd, ST_CWD, OP_MKDIR, -1);
  finalize_and_exec(s, fd);
}

void tsc_exec_child(const struct tsc_spec *s, int fd) {
  for (uint32_t i = 0; i < s->n_rlimits; i++) {
    struct rlimit rl = {(rlim_t)s->rlimits[i].soft, (rlim_t)s->rlimits[i].hard};
    if (setrlimit((int)s->rlimits[i].resource, &rl) < 0) tsc_fail(fd, ST_RLIMIT, OP_SETRLIMIT, (int)i);
  }
  umask(s->umask);
  finalize_and_exec(s, fd);
}
