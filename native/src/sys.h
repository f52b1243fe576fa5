/*
 * Raw system-call wrappers the addon exposes (Node lacks them). Each returns >= 0 on success and
 * -errno on failure; none allocates, logs or decides anything.
 */
#ifndef TSC_SYS_H
#define TSC_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int tsc_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
              const char *data);
int tsc_umount2(const char *target, int flags);
int tsc_pidfd_open(pid_t pid, unsigned int flags);
int tsc_pidfd_send_signal(int pidfd, int sig);
int tsc_mknod(const char *path, uint32_t mode, uint32_t major, uint32_t minor);
int tsc_setxattr(const char *path, const char *name, const void *value, size_t size, int flags,
                 int follow);
/* Returns the value size; with buf NULL (size 0) only the size. */
ssize_t tsc_lgetxattr(const char *path, const char *name, void *buf, size_t size);
int tsc_close(int fd);

#ifdef __cplusplus
}
#endif

#endif
