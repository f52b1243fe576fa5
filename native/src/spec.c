/*
 * LaunchSpec binary codec: a 16-byte header (magic, version, kind, total length) then the fields
 * in one fixed order (see walk()). Integers little-endian; strings u32 length + bytes + NUL, so a
 * decoded string points straight into the blob. Encoding and decoding share walk(), so the two
 * directions cannot drift apart. Must not make decisions about the values it carries.
 */
#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct io {
  int decode;
  struct tsc_buf *out;                 /* encode */
  const uint8_t *in;                   /* decode */
  size_t len, off;                     /* decode */
  int bad;
};

static void put(struct io *io, const void *p, size_t n) {
  struct tsc_buf *b = io->out;
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    uint8_t *np = realloc(b->p, cap);
    if (!np) {
      b->failed = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

static int take(struct io *io, void *p, size_t n) {
  if (io->bad || io->len - io->off < n) {
    io->bad = 1;
    return -1;
  }
  memcpy(p, io->in + io->off, n);
  io->off += n;
  return 0;
}

static void u32(struct io *io, uint32_t *v) {
  if (io->decode) {
    uint8_t b[4];
    if (take(io, b, 4) == 0)
      *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  } else {
    uint8_t b[4] = {(uint8_t)*v, (uint8_t)(*v >> 8), (uint8_t)(*v >> 16), (uint8_t)(*v >> 24)};
    put(io, b, 4);
  }
}

static void i32(struct io *io, int32_t *v) {
  uint32_t u = (uint32_t)*v;
  u32(io, &u);
  *v = (int32_t)u;
}

static void u64(struct io *io, uint64_t *v) {
  uint32_t lo = (uint32_t)*v, hi = (uint32_t)(*v >> 32);
  u32(io, &lo);
  u32(io, &hi);
  *v = (uint64_t)hi << 32 | lo;
}

static void str(struct io *io, const char **s) {
  if (io->decode) {
    uint32_t n = 0;
    u32(io, &n);
    if (io->bad || io->len - io->off < (size_t)n + 1 || io->in[io->off + n] != 0 ||
        memchr(io->in + io->off, 0, n) != NULL) {
      io->bad = 1;
      *s = "";
      return;
    }
    *s = (const char *)io->in + io->off;
    io->off += (size_t)n + 1;
  } else {
    const char *v = *s ? *s : "";
    uint32_t n = (uint32_t)strlen(v);
    u32(io, &n);
    put(io, v, (size_t)n + 1);
  }
}

/* Reads/writes a count, and on decode allocates count elements (+1 zeroed spare). */
static void *arr(struct io *io, uint32_t *n, void *items, size_t size) {
  u32(io, n);
  if (!io->decode) return items;
  if (io->bad) {
    *n = 0;
    return NULL;
  }
  /* each element takes at least 4 encoded bytes: bound allocations by the blob size */
  if ((size_t)*n > io->len - io->off) {
    io->bad = 1;
    *n = 0;
    return NULL;
  }
  void *p = calloc((size_t)*n + 1, size);
  if (!p) {
    io->bad = 1;
    *n = 0;
  }
  return p;
}

static void strv(struct io *io, struct tsc_strv *sv) {
  sv->v = arr(io, &sv->n, sv->v, sizeof(char *));
  for (uint32_t i = 0; i < sv->n && !io->bad; i++) str(io, &sv->v[i]);
}

static void walk(struct io *io, struct tsc_spec *s) {
  str(io, &s->id);
  str(io, &s->exit_path);
  str(io, &s->log_path);
  str(io, &s->stdin_path);
  u64(io, &s->log_max_size);
  u32(io, &s->log_max_file);
  str(io, &s->oom_file);
  str(io, &s->oom_key);

  u32(io, &s->clone_flags);
  s->joins = arr(io, &s->n_joins, s->joins, sizeof *s->joins);
  for (uint32_t i = 0; i < s->n_joins && !io->bad; i++) {
    u32(io, &s->joins[i].nstype);
    str(io, &s->joins[i].path);
  }
  s->uid_maps = arr(io, &s->n_uid_maps, s->uid_maps, sizeof *s->uid_maps);
  for (uint32_t i = 0; i < s->n_uid_maps && !io->bad; i++) {
    u32(io, &s->uid_maps[i].container_id);
    u32(io, &s->uid_maps[i].host_id);
    u32(io, &s->uid_maps[i].size);
  }
  s->gid_maps = arr(io, &s->n_gid_maps, s->gid_maps, sizeof *s->gid_maps);
  for (uint32_t i = 0; i < s->n_gid_maps && !io->bad; i++) {
    u32(io, &s->gid_maps[i].container_id);
    u32(io, &s->gid_maps[i].host_id);
    u32(io, &s->gid_maps[i].size);
  }
  strv(io, &s->cgroup_procs);

  str(io, &s->rootfs);
  u64(io, &s->root_propagation);
  u32(io, &s->readonly_rootfs);
  s->mounts = arr(io, &s->n_mounts, s->mounts, sizeof *s->mounts);
  for (uint32_t i = 0; i < s->n_mounts && !io->bad; i++) {
    struct tsc_mount_entry *m = &s->mounts[i];
    u32(io, &m->kind);
    u32(io, &m->mountpoint);
    str(io, &m->source);
    str(io, &m->target);
    str(io, &m->fstype);
    str(io, &m->data);
    u64(io, &m->flags);
    u64(io, &m->propagation);
  }
  s->devices = arr(io, &s->n_devices, s->devices, sizeof *s->devices);
  for (uint32_t i = 0; i < s->n_devices && !io->bad; i++) {
    struct tsc_device *d = &s->devices[i];
    u32(io, &d->kind);
    str(io, &d->target);
    str(io, &d->source);
    u32(io, &d->mode);
    u32(io, &d->major);
    u32(io, &d->minor);
    u32(io, &d->uid);
    u32(io, &d->gid);
  }
  s->symlinks = arr(io, &s->n_symlinks, s->symlinks, sizeof *s->symlinks);
  for (uint32_t i = 0; i < s->n_symlinks && !io->bad; i++) {
    str(io, &s->symlinks[i].target);
    str(io, &s->symlinks[i].path);
  }
  strv(io, &s->masked_paths);
  strv(io, &s->readonly_paths);
  str(io, &s->null_device);

  str(io, &s->hostname);
  str(io, &s->domainname);
  s->sysctls = arr(io, &s->n_sysctls, s->sysctls, sizeof *s->sysctls);
  for (uint32_t i = 0; i < s->n_sysctls && !io->bad; i++) {
    str(io, &s->sysctls[i].path);
    str(io, &s->sysctls[i].value);
  }
  s->rlimits = arr(io, &s->n_rlimits, s->rlimits, sizeof *s->rlimits);
  for (uint32_t i = 0; i < s->n_rlimits && !io->bad; i++) {
    u32(io, &s->rlimits[i].resource);
    u64(io, &s->rlimits[i].soft);
    u64(io, &s->rlimits[i].hard);
  }
  u32(io, &s->set_oom_score_adj);
  i32(io, &s->oom_score_adj);
  u32(io, &s->umask);
  u64(io, &s->cap_bounding);
  u64(io, &s->cap_effective);
  u64(io, &s->cap_permitted);
  u64(io, &s->cap_inheritable);
  u64(io, &s->cap_ambient);
  u32(io, &s->no_new_privs);
  u32(io, &s->uid);
  u32(io, &s->gid);
  s->groups = arr(io, &s->n_groups, s->groups, sizeof *s->groups);
  for (uint32_t i = 0; i < s->n_groups && !io->bad; i++) u32(io, &s->groups[i]);
  str(io, &s->cwd);
  u32(io, &s->tty);
  strv(io, &s->argv);
  strv(io, &s->env);
}

int tsc_spec_encode(const struct tsc_spec *spec, struct tsc_buf *out) {
  struct tsc_spec copy = *spec;
  struct io io = {.decode = 0, .out = out};
  uint32_t magic = TSC_SPEC_MAGIC, version = TSC_SPEC_VERSION, kind = spec->kind, total = 0;
  u32(&io, &magic);
  u32(&io, &version);
  u32(&io, &kind);
  u32(&io, &total);
  walk(&io, &copy);
  if (out->failed) return -ENOMEM;
  total = (uint32_t)out->len;
  out->p[12] = (uint8_t)total;
  out->p[13] = (uint8_t)(total >> 8);
  out->p[14] = (uint8_t)(total >> 16);
  out->p[15] = (uint8_t)(total >> 24);
  return 0;
}

uint32_t tsc_spec_total_length(const uint8_t *h) {
  uint32_t magic = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
  if (magic != TSC_SPEC_MAGIC) return 0;
  return (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
}

int tsc_spec_decode(const uint8_t *blob, size_t len, struct tsc_spec *spec) {
  memset(spec, 0, sizeof *spec);
  struct io io = {.decode = 1, .in = blob, .len = len};
  uint32_t magic = 0, total = 0;
  u32(&io, &magic);
  u32(&io, &spec->version);
  u32(&io, &spec->kind);
  u32(&io, &total);
  if (io.bad || magic != TSC_SPEC_MAGIC || total != len) return -EINVAL;
  if (spec->version != TSC_SPEC_VERSION) return -EPROTO;
  walk(&io, spec);
  if (io.bad || io.off != len || (spec->kind != TSC_KIND_LAUNCH && spec->kind != TSC_KIND_EXEC)) {
    tsc_spec_free(spec);
    return -EINVAL;
  }
  return 0;
}

void tsc_spec_free(struct tsc_spec *s) {
  free(s->joins);
  free(s->uid_maps);
  free(s->gid_maps);
  free(s->cgroup_procs.v);
  free(s->mounts);
  free(s->devices);
  free(s->symlinks);
  free(s->masked_paths.v);
  free(s->readonly_paths.v);
  free(s->sysctls);
  free(s->rlimits);
  free(s->groups);
  free(s->argv.v);
  free(s->env.v);
  memset(s, 0, sizeof *s);
}
