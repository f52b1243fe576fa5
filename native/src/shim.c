/*
 * tscompose-shim: `run` clones a container init in new namespaces and stays its parent (handshake,
 * reaping, signal forwarding, json-file log, exit record); `exec` joins a running container's
 * namespaces and cgroups and runs one process in it. Single-threaded by design (setns, clone).
 * The handshake on fd 3 is documented in docs/native.md. Makes no policy decisions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

#define SYNC_FD 3

static int read_full(int fd, void *buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = read(fd, (char *)buf + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    off += (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const void *buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = write(fd, (const char *)buf + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    off += (size_t)r;
  }
  return 0;
}

static void send_msg(int fd, const struct tsc_msg *m) {
  if (fd >= 0) (void)write_full(fd, m, sizeof *m);
}

/* Reports a shim-side failure (before or around clone) and exits 125. */
static void shim_fail(int fd, uint32_t stage, uint32_t op, int arg) __attribute__((noreturn));
static void shim_fail(int fd, uint32_t stage, uint32_t op, int arg) {
  struct tsc_msg m = {MSG_ERROR, 0, getpid(), stage, op, errno, arg, 125};
  send_msg(fd, &m);
  _exit(125);
}

static uint8_t *read_spec(int fd, size_t *len) {
  uint8_t header[TSC_SPEC_HEADER_SIZE];
  if (read_full(fd, header, sizeof header) < 0) return NULL;
  uint32_t total = tsc_spec_total_length(header);
  if (total < TSC_SPEC_HEADER_SIZE || total > TSC_SPEC_MAX_SIZE) return NULL;
  uint8_t *blob = malloc(total);
  if (!blob) return NULL;
  memcpy(blob, header, sizeof header);
  if (read_full(fd, blob + sizeof header, total - sizeof header) < 0) {
    free(blob);
    return NULL;
  }
  *len = total;
  return blob;
}

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = write_full(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* Value of `key N` in a counter file like memory.events or memory.oom_control; -1 if absent. */
static long long read_counter(const char *path, const char *key) {
  if (!path[0]) return -1;
  char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  size_t kl = strlen(key);
  for (char *line = buf; line && *line;) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ' ') return atoll(line + kl + 1);
    char *nl = strchr(line, '\n');
    line = nl ? nl + 1 : NULL;
  }
  return -1;
}

static void write_exit_record(const struct tsc_spec *s, pid_t pid, int status, int have_status,
                              int oom_killed, int exit_override) {
  int code = 255, sig = 0;
  if (exit_override >= 0) code = exit_override;
  else if (have_status && WIFEXITED(status)) code = WEXITSTATUS(status);
  else if (have_status && WIFSIGNALED(status)) sig = WTERMSIG(status), code = 128 + sig;
  char when[64], text[512], tmp[4200];
  tsc_rfc3339nano(when, sizeof when);
  snprintf(text, sizeof text,
           "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\",\"pid\":%d}\n",
           code, sig, oom_killed ? "true" : "false", when, (int)pid);
  snprintf(tmp, sizeof tmp, "%s.tmp", s->exit_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)write_full(fd, text, strlen(text));
  fsync(fd);
  close(fd);
  (void)rename(tmp, s->exit_path);
}

/*
 * The init's stdin: /dev/null, or the engine's FIFO (Docker's OpenStdin). The FIFO is opened
 * O_NONBLOCK so the open never waits for a writer (the engine holds one; without it the init
 * reads EOF), then made blocking again: the init and its children share this open file.
 */
static int open_stdin(const char *fifo) {
  if (!fifo[0]) return open("/dev/null", O_RDONLY | O_CLOEXEC);
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int block_signals(void) {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, SIGSEGV);
  sigdelset(&set, SIGBUS);
  sigdelset(&set, SIGILL);
  sigdelset(&set, SIGFPE);
  sigprocmask(SIG_BLOCK, &set, NULL);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

static int run_main(const struct tsc_spec *s, int sync) {
  prctl(PR_SET_NAME, "tsc:[shim]", 0, 0, 0);
  (void)setsid();
  if (chdir("/") < 0) shim_fail(sync, ST_SPEC, OP_CHDIR, -1);
  signal(SIGPIPE, SIG_IGN);
  int sfd = block_signals();
  if (sfd < 0) shim_fail(sync, ST_SPEC, OP_OPEN, -1);

  struct tsc_jsonlog *log = NULL;
  if (s->log_path[0]) {
    log = tsc_jsonlog_open(s->log_path, s->log_max_size, s->log_max_file);
    if (!log) shim_fail(sync, ST_STDIO, OP_OPEN, -1);
  }
  int out[2], err[2], sp[2];
  int in_fd = open_stdin(s->stdin_path);
  if (in_fd < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
    shim_fail(sync, ST_STDIO, OP_OPEN, -1);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    shim_fail(sync, ST_SPEC, OP_OPEN, -1);

  for (uint32_t i = 0; i < s->n_joins; i++) {
    int nfd = open(s->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (nfd < 0) shim_fail(sync, ST_NAMESPACES, OP_OPEN, (int)i);
    if (setns(nfd, (int)s->joins[i].nstype) < 0) shim_fail(sync, ST_NAMESPACES, OP_SETNS, (int)i);
    close(nfd);
  }

  unsigned long flags = (s->clone_flags & ~(unsigned long)CLONE_NEWCGROUP) | SIGCHLD;
  pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
  if (pid < 0) shim_fail(sync, ST_NAMESPACES, OP_CLONE, -1);
  if (pid == 0) {
    close(sp[0]);
    close(out[0]);
    close(err[0]);
    close(sfd);
    tsc_init_main(s, sp[1], in_fd, out[1], err[1]);
  }
  close(sp[1]);
  close(out[1]);
  close(err[1]);
  close(in_fd);

  char path[64], line[64];
  const struct {
    const char *file;
    uint32_t n;
    const struct tsc_idmap *m;
  } maps[2] = {{"uid_map", s->n_uid_maps, s->uid_maps}, {"gid_map", s->n_gid_maps, s->gid_maps}};
  for (int k = 0; k < 2; k++) {
    if (maps[k].n == 0) continue;
    char text[4096] = "";
    for (uint32_t i = 0; i < maps[k].n; i++) {
      snprintf(line, sizeof line, "%u %u %u\n", maps[k].m[i].container_id, maps[k].m[i].host_id,
               maps[k].m[i].size);
      strncat(text, line, sizeof text - strlen(text) - 1);
    }
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, maps[k].file);
    if (write_text(path, text) < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      shim_fail(sync, ST_ID_MAPS, OP_WRITE, k);
    }
  }
  /* cgroup_procs: the init joins its cgroups itself after "go" (init.c) */

  struct tsc_msg m = {MSG_PID, pid, getpid(), 0, 0, 0, 0, 0};
  send_msg(sync, &m);
  char go = 0;
  if (read_full(sync, &go, 1) < 0 || go != TSC_GO) {
    /* the engine went away or aborted before go: leave nothing behind */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
  }
  long long oom_before = read_counter(s->oom_file, s->oom_key);
  if (write_full(sp[0], &go, 1) < 0) {
    kill(pid, SIGKILL);
  }
  struct tsc_errrec rec;
  ssize_t n;
  do n = read(sp[0], &rec, sizeof rec);
  while (n < 0 && errno == EINTR);
  close(sp[0]);
  if (n == (ssize_t)sizeof rec && rec.magic == TSC_ERR_MAGIC) {
    int status = 0;
    waitpid(pid, &status, 0);
    write_exit_record(s, pid, status, 1, 0, (int)rec.exit_code);
    struct tsc_msg e = {MSG_ERROR, pid, getpid(), rec.stage, rec.op, rec.err, rec.arg, rec.exit_code};
    send_msg(sync, &e);
    tsc_jsonlog_close(log);
    return 0;
  }
  struct tsc_msg ok = {MSG_EXEC_OK, pid, getpid(), 0, 0, 0, 0, 0};
  send_msg(sync, &ok);
  close(sync);

  int status = 0, exited = 0, open_streams = 2;
  struct pollfd pfd[3] = {{sfd, POLLIN, 0}, {out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[16384];
  while (!exited || open_streams > 0) {
    /* after the init is gone, give processes outside its pid namespace a moment to let go */
    int r = poll(pfd, 3, exited ? 2000 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int st;
          pid_t w;
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == pid) status = st, exited = 1;
        } else if (!exited) {
          kill(pid, (int)si.ssi_signo);
        }
      }
    }
    for (int k = 1; k <= 2; k++) {
      if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(pfd[k].fd, buf, sizeof buf);
      if (got > 0) {
        if (log) tsc_jsonlog_feed(log, k - 1, buf, (size_t)got);
      } else if (got == 0 || errno != EINTR) {
        if (log) tsc_jsonlog_flush(log, k - 1);
        close(pfd[k].fd);
        pfd[k].fd = -1;
        open_streams--;
      }
    }
  }
  if (!exited) waitpid(pid, &status, 0);
  long long oom_after = read_counter(s->oom_file, s->oom_key);
  tsc_jsonlog_close(log);
  write_exit_record(s, pid, status, 1, oom_after > oom_before && oom_before >= 0, -1);
  return 0;
}

static int exec_main(const struct tsc_spec *s, int sync) {
  prctl(PR_SET_NAME, "tsc:[exec]", 0, 0, 0);
  char line[32];
  snprintf(line, sizeof line, "%d", (int)getpid());
  for (uint32_t i = 0; i < s->cgroup_procs.n; i++)
    if (write_text(s->cgroup_procs.v[i], line) < 0) shim_fail(sync, ST_CGROUP, OP_WRITE, (int)i);
  int fds[16];
  if (s->n_joins > 16) {
    errno = E2BIG;
    shim_fail(sync, ST_NAMESPACES, OP_SETNS, -1);
  }
  for (uint32_t i = 0; i < s->n_joins; i++) {
    fds[i] = open(s->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) shim_fail(sync, ST_NAMESPACES, OP_OPEN, (int)i);
  }
  for (uint32_t i = 0; i < s->n_joins; i++) {
    if (setns(fds[i], (int)s->joins[i].nstype) < 0) shim_fail(sync, ST_NAMESPACES, OP_SETNS, (int)i);
    close(fds[i]);
  }
  int master = -1;
  if (s->tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
      shim_fail(sync, ST_STDIO, OP_OPEN, -1);
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    shim_fail(sync, ST_SPEC, OP_OPEN, -1);
  int sfd = block_signals();
  pid_t pid = fork();
  if (pid < 0) shim_fail(sync, ST_NAMESPACES, OP_CLONE, -1);
  if (pid == 0) {
    close(sp[0]);
    if (setsid() < 0) tsc_fail(sp[1], ST_STDIO, OP_SETSID, -1);
    if (master >= 0) {
      int slave = open(ptsname(master), O_RDWR | O_CLOEXEC);
      if (slave < 0) tsc_fail(sp[1], ST_STDIO, OP_OPEN, -1);
      if (ioctl(slave, TIOCSCTTY, 0) < 0) tsc_fail(sp[1], ST_STDIO, OP_IOCTL, -1);
      if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
        tsc_fail(sp[1], ST_STDIO, OP_DUP2, -1);
    }
    tsc_exec_child(s, sp[1]);
  }
  close(sp[1]);
  struct tsc_errrec rec;
  ssize_t n;
  do n = read(sp[0], &rec, sizeof rec);
  while (n < 0 && errno == EINTR);
  close(sp[0]);
  if (n == (ssize_t)sizeof rec && rec.magic == TSC_ERR_MAGIC) {
    waitpid(pid, NULL, 0);
    struct tsc_msg e = {MSG_ERROR, pid, getpid(), rec.stage, rec.op, rec.err, rec.arg, rec.exit_code};
    send_msg(sync, &e);
    return (int)rec.exit_code;
  }
  struct tsc_msg ok = {MSG_EXEC_OK, pid, getpid(), 0, 0, 0, 0, 0};
  send_msg(sync, &ok);

  int status = 0, exited = 0, in_open = master >= 0, m_open = master >= 0;
  char buf[16384];
  while (!exited || m_open) {
    struct pollfd pfd[3] = {{sfd, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {m_open ? master : -1, POLLIN, 0}};
    int r = poll(pfd, 3, exited ? 200 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          if (waitpid(pid, &status, WNOHANG) == pid) exited = 1;
        } else if (!exited) {
          kill(pid, (int)si.ssi_signo);
        }
      }
    }
    if (pfd[1].revents & (POLLIN | POLLHUP)) {
      ssize_t got = read(0, buf, sizeof buf);
      if (got <= 0) {
        in_open = 0;
        char eof = 4; /* ^D: end of input for the terminal's reader */
        (void)write_full(master, &eof, 1);
      } else {
        (void)write_full(master, buf, (size_t)got);
      }
    }
    if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(master, buf, sizeof buf);
      if (got <= 0) m_open = 0;
      else (void)write_full(1, buf, (size_t)got);
    }
  }
  if (!exited) waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "exec") != 0)) {
    fprintf(stderr, "usage: tscompose-shim run|exec [--spec FILE]  (sync channel on fd 3)\n");
    return 2;
  }
  /* nothing the spawner leaked may reach the container: keep only stdio and the sync fd */
  syscall(SYS_close_range, 4U, ~0U, 0U);
  int sync = SYNC_FD;
  struct stat st;
  if (fstat(sync, &st) < 0) sync = -1;
  int spec_fd = sync;
  if (argc >= 4 && strcmp(argv[2], "--spec") == 0) spec_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
  if (spec_fd < 0) {
    fprintf(stderr, "tscompose-shim: no spec (fd 3 or --spec FILE)\n");
    return 125;
  }
  if (sync >= 0) fcntl(sync, F_SETFD, FD_CLOEXEC);
  size_t len = 0;
  uint8_t *blob = read_spec(spec_fd, &len);
  if (spec_fd != sync) close(spec_fd);
  struct tsc_spec spec;
  if (!blob) {
    errno = EINVAL;
    shim_fail(sync, ST_SPEC, OP_READ, -1);
  }
  int r = tsc_spec_decode(blob, len, &spec);
  if (r < 0) {
    errno = -r;
    shim_fail(sync, ST_SPEC, OP_READ, -1);
  }
  if (strcmp(argv[1], "run") == 0) {
    if (spec.kind != TSC_KIND_LAUNCH) {
      errno = EINVAL;
      shim_fail(sync, ST_SPEC, OP_READ, -1);
    }
    return run_main(&spec, sync);
  }
  if (spec.kind != TSC_KIND_EXEC) {
    errno = EINVAL;
    shim_fail(sync, ST_SPEC, OP_READ, -1);
  }
  return exec_main(&spec, sync);
}
