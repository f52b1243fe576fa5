/*
 * Static test probe run inside containers by the runtime integration tests (like crun's
 * tests/init.c): one subcommand per fact to observe. Prints plain text; exits 0 unless the
 * subcommand says otherwise. Never used outside tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cat(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "open %s: %s\n", path, strerror(errno));
    return 1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  close(fd);
  return 0;
}

static void print_status_field(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[512];
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') fputs(line, stdout);
  fclose(f);
}

static int count_zombies(void) {
  DIR *d = opendir("/proc");
  if (!d) return -1;
  struct dirent *e;
  int z = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p && p[2] == 'Z') z++;
  }
  closedir(d);
  return z;
}

static void on_term(int sig) { _exit(128 + sig); }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe <cmd> [args]\n");
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "pid")) {
    printf("pid=%d ppid=%d\n", getpid(), getppid());
  } else if (!strcmp(cmd, "hostname")) {
    char h[256] = "";
    gethostname(h, sizeof h);
    printf("%s\n", h);
  } else if (!strcmp(cmd, "cat") && argc > 2) {
    return cat(argv[2]);
  } else if (!strcmp(cmd, "mounts")) {
    return cat("/proc/self/mountinfo");
  } else if (!strcmp(cmd, "id")) {
    gid_t groups[256];
    int n = getgroups(256, groups);
    printf("uid=%d gid=%d groups=", getuid(), getgid());
    for (int i = 0; i < n; i++) printf(i ? ",%d" : "%d", groups[i]);
    printf("\n");
  } else if (!strcmp(cmd, "caps")) {
    print_status_field("CapInh");
    print_status_field("CapPrm");
    print_status_field("CapEff");
    print_status_field("CapBnd");
    print_status_field("CapAmb");
    print_status_field("NoNewPrivs");
  } else if (!strcmp(cmd, "rlimits")) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    printf("nofile=%llu:%llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    getrlimit(RLIMIT_NPROC, &r);
    printf("nproc=%llu:%llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
  } else if (!strcmp(cmd, "env")) {
    for (char **e = environ; *e; e++) printf("%s\n", *e);
  } else if (!strcmp(cmd, "cwd")) {
    char buf[4096];
    printf("%s\n", getcwd(buf, sizeof buf) ? buf : "?");
  } else if (!strcmp(cmd, "exit") && argc > 2) {
    return atoi(argv[2]);
  } else if (!strcmp(cmd, "echo")) {
    for (int i = 2; i < argc; i++) printf(i > 2 ? " %s" : "%s", argv[i]);
    printf("\n");
    fflush(stdout);
    for (int i = 2; i < argc; i++) fprintf(stderr, i > 2 ? " %s" : "%s", argv[i]);
    fprintf(stderr, "\n");
  } else if (!strcmp(cmd, "sleep")) {
    /* stays as PID 1 without handlers: only SIGKILL (or SIGTERM via an init) ends it */
    int secs = argc > 2 ? atoi(argv[2]) : 3600;
    for (int i = 0; i < secs; i++) sleep(1);
  } else if (!strcmp(cmd, "sleep-term")) {
    signal(SIGTERM, on_term);
    for (;;) pause();
  } else if (!strcmp(cmd, "memhog")) {
    long mb = argc > 2 ? atol(argv[2]) : 1024;
    for (long i = 0; i < mb; i++) {
      char *p = malloc(1 << 20);
      if (!p) return 3;
      memset(p, 1, 1 << 20);
    }
    printf("allocated %ld MiB\n", mb);
  } else if (!strcmp(cmd, "forkbomb")) {
    int n = argc > 2 ? atoi(argv[2]) : 100, ok = 0, failed = 0;
    for (int i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) {
        pause();
        _exit(0);
      }
      if (p < 0) failed++;
      else ok++;
    }
    printf("forked=%d failed=%d\n", ok, failed);
    fflush(stdout);
    kill(0, SIGKILL);
  } else if (!strcmp(cmd, "zombie")) {
    /* a child that leaves an orphan which exits: PID 1 must reap it */
    pid_t c = fork();
    if (c == 0) {
      if (fork() == 0) {
        usleep(100000); /* outlive the parent, so PID 1 inherits it */
        printf("orphan=%d\n", getpid());
        fflush(stdout);
        _exit(0);
      }
      _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("orphan started\n");
    fflush(stdout);
    for (;;) pause();
  } else if (!strcmp(cmd, "zombies")) {
    printf("zombies=%d\n", count_zombies());
  } else if (!strcmp(cmd, "marker")) {
    /* start-latency bench: the first thing the container does is write a timestamp */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int fd = open(argc > 2 ? argv[2] : "/marker", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 1;
    dprintf(fd, "%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    close(fd);
  } else if (!strcmp(cmd, "lines") && argc > 2) {
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) printf("line %06d of the json-file rotation test\n", i);
  } else if (!strcmp(cmd, "spin") && argc > 2) {
    /* burn this much CPU time (not wall time), so a quota must throttle it whatever the load */
    struct timespec b;
    long ms = atol(argv[2]);
    volatile unsigned long x = 0;
    do {
      for (int i = 0; i < 100000; i++) x++;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    } while (b.tv_sec * 1000 + b.tv_nsec / 1000000 < ms);
  } else if (!strcmp(cmd, "tty")) {
    printf("isatty=%d\n", isatty(0) && isatty(1));
  } else {
    fprintf(stderr, "probe: unknown command %s\n", cmd);
    return 2;
  }
  return 0;
}
