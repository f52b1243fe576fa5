/*
 * Raw system-call wrappers (see sys.h): return -errno, never decide. The pidfd calls go through
 * syscall(2) so the addon builds against any glibc.
 */
#include "sys.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define RET(x) ((x) < 0 ? -errno : (x))

int tsc_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
              const char *data) {
  int r = mount(source, target, fstype, flags, data);
  return RET(r);
}

int tsc_umount2(const char *target, int flags) {
  int r = umount2(target, flags);
  return RET(r);
}

int tsc_pidfd_open(pid_t pid, unsigned int flags) {
  long r = syscall(SYS_pidfd_open, pid, flags);
  return r < 0 ? -errno : (int)r;
}

int tsc_pidfd_send_signal(int pidfd, int sig) {
  long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
  return r < 0 ? -errno : 0;
}

int tsc_mknod(const char *path, uint32_t mode, uint32_t major, uint32_t minor) {
  int r = mknod(path, (mode_t)mode, makedev(major, minor));
  return RET(r);
}

int tsc_setxattr(const char *path, const char *name, const void *value, size_t size, int flags,
                 int follow) {
  int r = follow ? setxattr(path, name, value, size, flags) : lsetxattr(path, name, value, size, flags);
  return RET(r);
}

ssize_t tsc_lgetxattr(const char *path, const char *name, void *buf, size_t size) {
  ssize_t r = lgetxattr(path, name, buf, size);
  return r < 0 ? -errno : r;
}

int tsc_close(int fd) {
  int r = close(fd);
  return RET(r);
}
