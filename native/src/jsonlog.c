/*
 * Docker's json-file log driver, written by the shim: one JSON object per line
 * `{"log":"...","stream":"stdout","time":"RFC3339Nano"}`, 16 KiB partial entries, Docker's
 * escaping (moby daemon/logger/jsonfilelog), max-size/max-file rotation (f, f.1, ... f.<n-1>).
 * Owns only the log file; never touches the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define LINE_MAX_BYTES 16384

struct stream_buf {
  char data[LINE_MAX_BYTES];
  size_t len;
};

struct tsc_jsonlog {
  int fd;
  const char *path;
  uint64_t max_size, size;
  uint32_t max_file;
  struct stream_buf streams[2];
  char *out;
  size_t out_cap;
};

void tsc_rfc3339nano(char *out, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char frac[16];
  snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
  size_t n = strlen(frac);
  while (n > 1 && frac[n - 1] == '0') frac[--n] = 0;
  if (n == 1) frac[0] = 0;
  snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

struct tsc_jsonlog *tsc_jsonlog_open(const char *path, uint64_t max_size, uint32_t max_file) {
  struct tsc_jsonlog *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (l->fd < 0) {
    free(l);
    return NULL;
  }
  struct stat st;
  if (fstat(l->fd, &st) == 0) l->size = (uint64_t)st.st_size;
  l->path = path;
  l->max_size = max_size;
  l->max_file = max_file ? max_file : 1;
  l->out_cap = LINE_MAX_BYTES * 6 + 256;
  l->out = malloc(l->out_cap);
  if (!l->out) {
    close(l->fd);
    free(l);
    return NULL;
  }
  return l;
}

static void rotate(struct tsc_jsonlog *l) {
  if (l->max_file <= 1) {
    if (ftruncate(l->fd, 0) == 0) l->size = 0;
    return;
  }
  char from[4200], to[4200];
  for (uint32_t i = l->max_file - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "%s", l->path);
    else snprintf(from, sizeof from, "%s.%u", l->path, i - 1);
    snprintf(to, sizeof to, "%s.%u", l->path, i);
    if (rename(from, to) < 0 && errno != ENOENT) return;
  }
  int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;
  close(l->fd);
  l->fd = fd;
  l->size = 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t need;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) need = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) need = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) need = 4, cp = c & 0x07;
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return need;
}

static void emit(struct tsc_jsonlog *l, int stream, const char *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *o = l->out;
  size_t k = 0;
  k += (size_t)sprintf(o + k, "{\"log\":\"");
  const unsigned char *u = (const unsigned char *)p;
  for (size_t i = 0; i < n;) {
    unsigned char c = u[i];
    if (c == '\\' || c == '"') {
      o[k++] = '\\';
      o[k++] = (char)c;
      i++;
    } else if (c == '\n') {
      o[k++] = '\\', o[k++] = 'n', i++;
    } else if (c == '\r') {
      o[k++] = '\\', o[k++] = 'r', i++;
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      k += (size_t)sprintf(o + k, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
      i++;
    } else if (c < 0x80) {
      o[k++] = (char)c;
      i++;
    } else {
      size_t m = utf8_len(u + i, n - i);
      if (m == 0) {
        k += (size_t)sprintf(o + k, "\\ufffd");
        i++;
      } else if (m == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
        k += (size_t)sprintf(o + k, "\\u202%c", u[i + 2] == 0xa8 ? '8' : '9');
        i += 3;
      } else {
        memcpy(o + k, u + i, m);
        k += m;
        i += m;
      }
    }
  }
  char ts[64];
  tsc_rfc3339nano(ts, sizeof ts);
  k += (size_t)sprintf(o + k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                       stream ? "stderr" : "stdout", ts);
  if (l->max_size > 0 && l->size > 0 && l->size + k > l->max_size) rotate(l);
  size_t off = 0;
  while (off < k) {
    ssize_t w = write(l->fd, o + off, k - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += (size_t)w;
  }
  l->size += k;
}

void tsc_jsonlog_feed(struct tsc_jsonlog *l, int stream, const char *p, size_t n) {
  struct stream_buf *b = &l->streams[stream ? 1 : 0];
  while (n > 0) {
    size_t take = LINE_MAX_BYTES - b->len;
    if (take > n) take = n;
    memcpy(b->data + b->len, p, take);
    b->len += take;
    p += take;
    n -= take;
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
      if (b->data[i] == '\n') {
        emit(l, stream, b->data + start, i + 1 - start);
        start = i + 1;
      }
    }
    memmove(b->data, b->data + start, b->len - start);
    b->len -= start;
    if (b->len == LINE_MAX_BYTES) {
      emit(l, stream, b->data, b->len);
      b->len = 0;
    }
  }
}

void tsc_jsonlog_flush(struct tsc_jsonlog *l, int stream) {
  struct stream_buf *b = &l->streams[stream ? 1 : 0];
  if (b->len) emit(l, stream, b->data, b->len);
  b->len = 0;
}

void tsc_jsonlog_close(struct tsc_jsonlog *l) {
  if (!l) return;
  fsync(l->fd);
  close(l->fd);
  free(l->out);
  free(l);
}
