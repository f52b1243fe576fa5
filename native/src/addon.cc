// N-API glue only: shape-checks JS values into C structs (throwing TypeError naming the field),
// calls spec.c / sys.c / netlink.c (netlink on the libuv pool, as promises), and returns results.
// Syscall wrappers return -errno as a number; the TS side (native/index.ts) turns that into
// NativeError. The main thread never blocks and never forks.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "netlink.h"
#include "spec.h"
#include "sys.h"
}

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>

namespace {

constexpr uint32_t kAbiVersion = 1;

class Decoder {
 public:
  explicit Decoder(Napi::Env env) : env_(env) {}

  Napi::Value Get(Napi::Object o, const char *key, const std::string &path) {
    if (!o.Has(key)) Fail(path + "." + key, "is missing");
    return o.Get(key);
  }
  [[noreturn]] void Fail(const std::string &path, const char *what) {
    throw Napi::TypeError::New(env_, "launch spec: " + path + " " + what);
  }
  const char *Str(Napi::Object o, const char *key, const std::string &path) {
    Napi::Value v = Get(o, key, path);
    if (!v.IsString()) Fail(path + "." + key, "must be a string");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) Fail(path + "." + key, "must not contain NUL");
    strings_.push_back(std::move(s));
    return strings_.back().c_str();
  }
  double Num(Napi::Object o, const char *key, const std::string &path, double min, double max) {
    Napi::Value v = Get(o, key, path);
    if (!v.IsNumber()) Fail(path + "." + key, "must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != d || d < min || d > max || d != static_cast<double>(static_cast<int64_t>(d)))
      Fail(path + "." + key, "is out of range");
    return d;
  }
  uint32_t U32(Napi::Object o, const char *key, const std::string &path) {
    return static_cast<uint32_t>(Num(o, key, path, 0, 4294967295.0));
  }
  uint64_t U64(Napi::Object o, const char *key, const std::string &path) {
    return static_cast<uint64_t>(Num(o, key, path, 0, 9007199254740991.0));
  }
  // -1 means "unlimited" (RLIM_INFINITY).
  uint64_t Limit(Napi::Object o, const char *key, const std::string &path) {
    double d = Num(o, key, path, -1, 9007199254740991.0);
    return d < 0 ? UINT64_MAX : static_cast<uint64_t>(d);
  }
  bool Bool(Napi::Object o, const char *key, const std::string &path) {
    Napi::Value v = Get(o, key, path);
    if (!v.IsBoolean()) Fail(path + "." + key, "must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  Napi::Object Obj(Napi::Value v, const std::string &path) {
    if (!v.IsObject() || v.IsArray()) Fail(path, "must be an object");
    return v.As<Napi::Object>();
  }
  Napi::Array Arr(Napi::Object o, const char *key, const std::string &path) {
    Napi::Value v = Get(o, key, path);
    if (!v.IsArray()) Fail(path + "." + key, "must be an array");
    return v.As<Napi::Array>();
  }
  template <typename T>
  T *Alloc(uint32_t n) {
    auto &buf = blocks_.emplace_back(std::vector<uint8_t>((n + 1) * sizeof(T), 0));
    return reinterpret_cast<T *>(buf.data());
  }
  tsc_strv Strv(Napi::Object o, const char *key, const std::string &path) {
    Napi::Array a = Arr(o, key, path);
    tsc_strv sv{a.Length(), Alloc<const char *>(a.Length())};
    for (uint32_t i = 0; i < sv.n; i++) {
      Napi::Value e = a.Get(i);
      std::string p = path + "." + key + "[" + std::to_string(i) + "]";
      if (!e.IsString()) Fail(p, "must be a string");
      std::string s = e.As<Napi::String>().Utf8Value();
      if (s.find('\0') != std::string::npos) Fail(p, "must not contain NUL");
      strings_.push_back(std::move(s));
      sv.v[i] = strings_.back().c_str();
    }
    return sv;
  }
  uint64_t Caps(Napi::Object o, const char *key, const std::string &path) {
    Napi::Array a = Arr(o, key, path);
    uint64_t mask = 0;
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber()) Fail(path + "." + key, "must hold capability numbers");
      int64_t c = e.As<Napi::Number>().Int64Value();
      if (c < 0 || c > 63) Fail(path + "." + key, "holds a capability out of range");
      mask |= 1ULL << c;
    }
    return mask;
  }

 private:
  Napi::Env env_;
  std::deque<std::string> strings_;
  std::deque<std::vector<uint8_t>> blocks_;
};

void DecodeSpec(Decoder &d, Napi::Object o, tsc_spec &s) {
  const std::string p = "spec";
  if (d.Num(o, "v", p, 0, 1e9) != TSC_SPEC_VERSION) d.Fail("spec.v", "is not a supported version");
  std::string kind = d.Str(o, "kind", p);
  if (kind == "launch") s.kind = TSC_KIND_LAUNCH;
  else if (kind == "exec") s.kind = TSC_KIND_EXEC;
  else d.Fail("spec.kind", "must be \"launch\" or \"exec\"");
  s.version = TSC_SPEC_VERSION;
  s.id = d.Str(o, "id", p);
  s.exit_path = d.Str(o, "exitPath", p);
  s.log_path = d.Str(o, "logPath", p);
  s.stdin_path = d.Str(o, "stdinPath", p);
  s.log_max_size = d.U64(o, "logMaxSize", p);
  s.log_max_file = d.U32(o, "logMaxFile", p);
  s.oom_file = d.Str(o, "oomFile", p);
  s.oom_key = d.Str(o, "oomKey", p);
  s.clone_flags = d.U32(o, "cloneFlags", p);

  Napi::Array joins = d.Arr(o, "joins", p);
  s.n_joins = joins.Length();
  s.joins = d.Alloc<tsc_ns_join>(s.n_joins);
  for (uint32_t i = 0; i < s.n_joins; i++) {
    std::string ip = p + ".joins[" + std::to_string(i) + "]";
    Napi::Object j = d.Obj(joins.Get(i), ip);
    s.joins[i].nstype = d.U32(j, "nstype", ip);
    s.joins[i].path = d.Str(j, "path", ip);
  }
  auto maps = [&](const char *key, uint32_t &n, tsc_idmap *&out) {
    Napi::Array a = d.Arr(o, key, p);
    n = a.Length();
    out = d.Alloc<tsc_idmap>(n);
    for (uint32_t i = 0; i < n; i++) {
      std::string ip = p + "." + key + "[" + std::to_string(i) + "]";
      Napi::Object m = d.Obj(a.Get(i), ip);
      out[i].container_id = d.U32(m, "containerId", ip);
      out[i].host_id = d.U32(m, "hostId", ip);
      out[i].size = d.U32(m, "size", ip);
    }
  };
  maps("uidMappings", s.n_uid_maps, s.uid_maps);
  maps("gidMappings", s.n_gid_maps, s.gid_maps);
  s.cgroup_procs = d.Strv(o, "cgroupProcs", p);

  s.rootfs = d.Str(o, "rootfs", p);
  s.root_propagation = d.U64(o, "rootPropagation", p);
  s.readonly_rootfs = d.Bool(o, "readonlyRootfs", p);
  Napi::Array mounts = d.Arr(o, "mounts", p);
  s.n_mounts = mounts.Length();
  s.mounts = d.Alloc<tsc_mount_entry>(s.n_mounts);
  for (uint32_t i = 0; i < s.n_mounts; i++) {
    std::string ip = p + ".mounts[" + std::to_string(i) + "]";
    Napi::Object m = d.Obj(mounts.Get(i), ip);
    tsc_mount_entry &t = s.mounts[i];
    t.kind = d.U32(m, "kind", ip);
    if (t.kind < TSC_MNT_FS || t.kind > TSC_MNT_REMOUNT) d.Fail(ip + ".kind", "is unknown");
    t.mountpoint = d.U32(m, "mountpoint", ip);
    if (t.mountpoint > TSC_MP_FILE) d.Fail(ip + ".mountpoint", "is unknown");
    t.source = d.Str(m, "source", ip);
    t.target = d.Str(m, "target", ip);
    t.fstype = d.Str(m, "fstype", ip);
    t.data = d.Str(m, "data", ip);
    t.flags = d.U64(m, "flags", ip);
    t.propagation = d.U64(m, "propagation", ip);
  }
  Napi::Array devices = d.Arr(o, "devices", p);
  s.n_devices = devices.Length();
  s.devices = d.Alloc<tsc_device>(s.n_devices);
  for (uint32_t i = 0; i < s.n_devices; i++) {
    std::string ip = p + ".devices[" + std::to_string(i) + "]";
    Napi::Object m = d.Obj(devices.Get(i), ip);
    tsc_device &t = s.devices[i];
    t.kind = d.U32(m, "kind", ip);
    if (t.kind != TSC_DEV_MKNOD && t.kind != TSC_DEV_BIND) d.Fail(ip + ".kind", "is unknown");
    t.target = d.Str(m, "target", ip);
    t.source = d.Str(m, "source", ip);
    t.mode = d.U32(m, "mode", ip);
    t.major = d.U32(m, "major", ip);
    t.minor = d.U32(m, "minor", ip);
    t.uid = d.U32(m, "uid", ip);
    t.gid = d.U32(m, "gid", ip);
  }
  Napi::Array links = d.Arr(o, "symlinks", p);
  s.n_symlinks = links.Length();
  s.symlinks = d.Alloc<tsc_symlink>(s.n_symlinks);
  for (uint32_t i = 0; i < s.n_symlinks; i++) {
    std::string ip = p + ".symlinks[" + std::to_string(i) + "]";
    Napi::Object m = d.Obj(links.Get(i), ip);
    s.symlinks[i].target = d.Str(m, "target", ip);
    s.symlinks[i].path = d.Str(m, "path", ip);
  }
  s.masked_paths = d.Strv(o, "maskedPaths", p);
  s.readonly_paths = d.Strv(o, "readonlyPaths", p);
  s.null_device = d.Str(o, "nullDevice", p);

  s.hostname = d.Str(o, "hostname", p);
  s.domainname = d.Str(o, "domainname", p);
  Napi::Array sysctls = d.Arr(o, "sysctls", p);
  s.n_sysctls = sysctls.Length();
  s.sysctls = d.Alloc<tsc_sysctl>(s.n_sysctls);
  for (uint32_t i = 0; i < s.n_sysctls; i++) {
    std::string ip = p + ".sysctls[" + std::to_string(i) + "]";
    Napi::Object m = d.Obj(sysctls.Get(i), ip);
    s.sysctls[i].path = d.Str(m, "path", ip);
    s.sysctls[i].value = d.Str(m, "value", ip);
  }
  Napi::Array rlimits = d.Arr(o, "rlimits", p);
  s.n_rlimits = rlimits.Length();
  s.rlimits = d.Alloc<tsc_rlimit>(s.n_rlimits);
  for (uint32_t i = 0; i < s.n_rlimits; i++) {
    std::string ip = p + ".rlimits[" + std::to_string(i) + "]";
    Napi::Object m = d.Obj(rlimits.Get(i), ip);
    s.rlimits[i].resource = d.U32(m, "resource", ip);
    s.rlimits[i].soft = d.Limit(m, "soft", ip);
    s.rlimits[i].hard = d.Limit(m, "hard", ip);
  }
  s.set_oom_score_adj = d.Bool(o, "setOomScoreAdj", p);
  s.oom_score_adj = static_cast<int32_t>(d.Num(o, "oomScoreAdj", p, -1000, 1000));
  s.umask = d.U32(o, "umask", p);
  Napi::Object caps = d.Obj(d.Get(o, "capabilities", p), p + ".capabilities");
  std::string cp = p + ".capabilities";
  s.cap_bounding = d.Caps(caps, "bounding", cp);
  s.cap_effective = d.Caps(caps, "effective", cp);
  s.cap_permitted = d.Caps(caps, "permitted", cp);
  s.cap_inheritable = d.Caps(caps, "inheritable", cp);
  s.cap_ambient = d.Caps(caps, "ambient", cp);
  s.no_new_privs = d.Bool(o, "noNewPrivileges", p);
  s.uid = d.U32(o, "uid", p);
  s.gid = d.U32(o, "gid", p);
  Napi::Array groups = d.Arr(o, "additionalGids", p);
  s.n_groups = groups.Length();
  s.groups = d.Alloc<uint32_t>(s.n_groups);
  for (uint32_t i = 0; i < s.n_groups; i++) {
    Napi::Value g = groups.Get(i);
    if (!g.IsNumber()) d.Fail(p + ".additionalGids[" + std::to_string(i) + "]", "must be a number");
    s.groups[i] = g.As<Napi::Number>().Uint32Value();
  }
  s.cwd = d.Str(o, "cwd", p);
  s.tty = d.Bool(o, "tty", p);
  s.argv = d.Strv(o, "argv", p);
  if (s.argv.n == 0) d.Fail("spec.argv", "must not be empty");
  s.env = d.Strv(o, "env", p);
}

Napi::Value EncodeLaunchSpec(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "launch spec: spec must be an object");
  }
  Decoder d(env);
  tsc_spec s{};
  DecodeSpec(d, info[0].As<Napi::Object>(), s);
  tsc_buf out{};
  if (tsc_spec_encode(&s, &out) != 0) {
    free(out.p);
    throw Napi::Error::New(env, "encode launch spec: out of memory");
  }
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env, out.p, out.len);
  free(out.p);
  return buf;
}

// The inverse, for tests and `tscompose debug`: blob -> plain object in the LaunchSpec shape.
Napi::Value DecodeLaunchSpec(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    throw Napi::TypeError::New(env, "decode launch spec: argument must be a Buffer");
  }
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  tsc_spec s{};
  int r = tsc_spec_decode(buf.Data(), buf.Length(), &s);
  if (r != 0) return Napi::Number::New(env, r);
  auto str = [&](const char *v) { return Napi::String::New(env, v); };
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  auto lim = [&](uint64_t v) { return Napi::Number::New(env, v == UINT64_MAX ? -1.0 : double(v)); };
  auto strv = [&](const tsc_strv &sv) {
    Napi::Array a = Napi::Array::New(env, sv.n);
    for (uint32_t i = 0; i < sv.n; i++) a.Set(i, str(sv.v[i]));
    return a;
  };
  auto caps = [&](uint64_t m) {
    Napi::Array a = Napi::Array::New(env);
    uint32_t k = 0;
    for (uint32_t c = 0; c < 64; c++)
      if (m & (1ULL << c)) a.Set(k++, num(c));
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("v", num(s.version));
  o.Set("kind", str(s.kind == TSC_KIND_LAUNCH ? "launch" : "exec"));
  o.Set("id", str(s.id));
  o.Set("exitPath", str(s.exit_path));
  o.Set("logPath", str(s.log_path));
  o.Set("stdinPath", str(s.stdin_path));
  o.Set("logMaxSize", num(double(s.log_max_size)));
  o.Set("logMaxFile", num(s.log_max_file));
  o.Set("oomFile", str(s.oom_file));
  o.Set("oomKey", str(s.oom_key));
  o.Set("cloneFlags", num(s.clone_flags));
  Napi::Array joins = Napi::Array::New(env, s.n_joins);
  for (uint32_t i = 0; i < s.n_joins; i++) {
    Napi::Object j = Napi::Object::New(env);
    j.Set("nstype", num(s.joins[i].nstype));
    j.Set("path", str(s.joins[i].path));
    joins.Set(i, j);
  }
  o.Set("joins", joins);
  auto maps = [&](uint32_t n, const tsc_idmap *m) {
    Napi::Array a = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("containerId", num(m[i].container_id));
      e.Set("hostId", num(m[i].host_id));
      e.Set("size", num(m[i].size));
      a.Set(i, e);
    }
    return a;
  };
  o.Set("uidMappings", maps(s.n_uid_maps, s.uid_maps));
  o.Set("gidMappings", maps(s.n_gid_maps, s.gid_maps));
  o.Set("cgroupProcs", strv(s.cgroup_procs));
  o.Set("rootfs", str(s.rootfs));
  o.Set("rootPropagation", num(double(s.root_propagation)));
  o.Set("readonlyRootfs", Napi::Boolean::New(env, s.readonly_rootfs != 0));
  Napi::Array mounts = Napi::Array::New(env, s.n_mounts);
  for (uint32_t i = 0; i < s.n_mounts; i++) {
    const tsc_mount_entry &t = s.mounts[i];
    Napi::Object m = Napi::Object::New(env);
    m.Set("kind", num(t.kind));
    m.Set("mountpoint", num(t.mountpoint));
    m.Set("source", str(t.source));
    m.Set("target", str(t.target));
    m.Set("fstype", str(t.fstype));
    m.Set("data", str(t.data));
    m.Set("flags", num(double(t.flags)));
    m.Set("propagation", num(double(t.propagation)));
    mounts.Set(i, m);
  }
  o.Set("mounts", mounts);
  Napi::Array devices = Napi::Array::New(env, s.n_devices);
  for (uint32_t i = 0; i < s.n_devices; i++) {
    const tsc_device &t = s.devices[i];
    Napi::Object m = Napi::Object::New(env);
    m.Set("kind", num(t.kind));
    m.Set("target", str(t.target));
    m.Set("source", str(t.source));
    m.Set("mode", num(t.mode));
    m.Set("major", num(t.major));
    m.Set("minor", num(t.minor));
    m.Set("uid", num(t.uid));
    m.Set("gid", num(t.gid));
    devices.Set(i, m);
  }
  o.Set("devices", devices);
  Napi::Array links = Napi::Array::New(env, s.n_symlinks);
  for (uint32_t i = 0; i < s.n_symlinks; i++) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("target", str(s.symlinks[i].target));
    m.Set("path", str(s.symlinks[i].path));
    links.Set(i, m);
  }
  o.Set("symlinks", links);
  o.Set("maskedPaths", strv(s.masked_paths));
  o.Set("readonlyPaths", strv(s.readonly_paths));
  o.Set("nullDevice", str(s.null_device));
  o.Set("hostname", str(s.hostname));
  o.Set("domainname", str(s.domainname));
  Napi::Array sysctls = Napi::Array::New(env, s.n_sysctls);
  for (uint32_t i = 0; i < s.n_sysctls; i++) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("path", str(s.sysctls[i].path));
    m.Set("value", str(s.sysctls[i].value));
    sysctls.Set(i, m);
  }
  o.Set("sysctls", sysctls);
  Napi::Array rlimits = Napi::Array::New(env, s.n_rlimits);
  for (uint32_t i = 0; i < s.n_rlimits; i++) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("resource", num(s.rlimits[i].resource));
    m.Set("soft", lim(s.rlimits[i].soft));
    m.Set("hard", lim(s.rlimits[i].hard));
    rlimits.Set(i, m);
  }
  o.Set("rlimits", rlimits);
  o.Set("setOomScoreAdj", Napi::Boolean::New(env, s.set_oom_score_adj != 0));
  o.Set("oomScoreAdj", num(s.oom_score_adj));
  o.Set("umask", num(s.umask));
  Napi::Object c = Napi::Object::New(env);
  c.Set("bounding", caps(s.cap_bounding));
  c.Set("effective", caps(s.cap_effective));
  c.Set("permitted", caps(s.cap_permitted));
  c.Set("inheritable", caps(s.cap_inheritable));
  c.Set("ambient", caps(s.cap_ambient));
  o.Set("capabilities", c);
  o.Set("noNewPrivileges", Napi::Boolean::New(env, s.no_new_privs != 0));
  o.Set("uid", num(s.uid));
  o.Set("gid", num(s.gid));
  Napi::Array groups = Napi::Array::New(env, s.n_groups);
  for (uint32_t i = 0; i < s.n_groups; i++) groups.Set(i, num(s.groups[i]));
  o.Set("additionalGids", groups);
  o.Set("cwd", str(s.cwd));
  o.Set("tty", Napi::Boolean::New(env, s.tty != 0));
  o.Set("argv", strv(s.argv));
  o.Set("env", strv(s.env));
  tsc_spec_free(&s);
  return o;
}

std::string StrArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// A string, or null/undefined for a NULL pointer.
bool OptStrArg(const Napi::CallbackInfo &info, size_t i, const char *name, std::string &out) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return false;
  out = StrArg(info, i, name);
  return true;
}

double NumArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// mount(2)'s arguments as the JS side passes them: (source|null, target, fstype|null, flags,
// data|null). Copies, so a pool thread can use them after the call returns.
struct MountArgs {
  bool hs, hf, hd;
  std::string source, target, fstype, data;
  unsigned long flags;
  int Call() const {
    return tsc_mount(hs ? source.c_str() : nullptr, target.c_str(), hf ? fstype.c_str() : nullptr,
                     flags, hd ? data.c_str() : nullptr);
  }
};

MountArgs MountArgsOf(const Napi::CallbackInfo &info) {
  MountArgs a;
  a.hs = OptStrArg(info, 0, "source", a.source);
  a.target = StrArg(info, 1, "target");
  a.hf = OptStrArg(info, 2, "fstype", a.fstype);
  a.flags = static_cast<unsigned long>(NumArg(info, 3, "flags"));
  a.hd = OptStrArg(info, 4, "data", a.data);
  return a;
}

Napi::Value Mount(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), MountArgsOf(info).Call());
}

Napi::Value Umount2(const Napi::CallbackInfo &info) {
  std::string target = StrArg(info, 0, "target");
  int r = tsc_umount2(target.c_str(), static_cast<int>(NumArg(info, 1, "flags")));
  return Napi::Number::New(info.Env(), r);
}

// Runs one syscall wrapper on the libuv pool (an overlay mount or unmount takes milliseconds the
// event loop should not block for; an unmount syncs the upper filesystem) and resolves its result
// (0, or -errno). `call` owns copies of its arguments; paths must be absolute (the pool thread
// shares the process's cwd, which callers must not rely on here).
class SyscallWorker : public Napi::AsyncWorker {
 public:
  SyscallWorker(Napi::Env env, std::function<int()> call)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        call_(std::move(call)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { result_ = call_(); }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), result_)); }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<int()> call_;
  int result_ = 0;
};

Napi::Value QueueSyscall(Napi::Env env, std::function<int()> call) {
  auto *w = new SyscallWorker(env, std::move(call));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value MountAsync(const Napi::CallbackInfo &info) {
  return QueueSyscall(info.Env(), [a = MountArgsOf(info)] { return a.Call(); });
}

Napi::Value Umount2Async(const Napi::CallbackInfo &info) {
  std::string target = StrArg(info, 0, "target");
  int flags = static_cast<int>(NumArg(info, 1, "flags"));
  return QueueSyscall(info.Env(), [target = std::move(target), flags] {
    return tsc_umount2(target.c_str(), flags);
  });
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  int r = tsc_pidfd_open(static_cast<pid_t>(NumArg(info, 0, "pid")),
                         static_cast<unsigned>(NumArg(info, 1, "flags")));
  return Napi::Number::New(info.Env(), r);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  int r = tsc_pidfd_send_signal(static_cast<int>(NumArg(info, 0, "pidfd")),
                                static_cast<int>(NumArg(info, 1, "signal")));
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), tsc_close(static_cast<int>(NumArg(info, 0, "fd"))));
}

Napi::Value Mknod(const Napi::CallbackInfo &info) {
  std::string path = StrArg(info, 0, "path");
  int r = tsc_mknod(path.c_str(), static_cast<uint32_t>(NumArg(info, 1, "mode")),
                    static_cast<uint32_t>(NumArg(info, 2, "major")),
                    static_cast<uint32_t>(NumArg(info, 3, "minor")));
  return Napi::Number::New(info.Env(), r);
}

Napi::Value SetxattrImpl(const Napi::CallbackInfo &info, int follow) {
  std::string path = StrArg(info, 0, "path");
  std::string name = StrArg(info, 1, "name");
  if (info.Length() < 3 || !info[2].IsBuffer())
    throw Napi::TypeError::New(info.Env(), "value must be a Buffer");
  auto value = info[2].As<Napi::Buffer<uint8_t>>();
  int flags = info.Length() > 3 ? static_cast<int>(NumArg(info, 3, "flags")) : 0;
  int r = tsc_setxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), flags, follow);
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Setxattr(const Napi::CallbackInfo &info) { return SetxattrImpl(info, 1); }
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) { return SetxattrImpl(info, 0); }

// Returns a Buffer with the value, or -errno.
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  std::string path = StrArg(info, 0, "path");
  std::string name = StrArg(info, 1, "name");
  for (int attempt = 0; attempt < 4; attempt++) {
    ssize_t n = tsc_lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (n < 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
    std::vector<uint8_t> buf(static_cast<size_t>(n) + 1);
    ssize_t m = tsc_lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (m == -ERANGE) continue;
    if (m < 0) return Napi::Number::New(info.Env(), static_cast<double>(m));
    return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), static_cast<size_t>(m));
  }
  return Napi::Number::New(info.Env(), -ERANGE);
}

// ---- rtnetlink (netlink.c) on a worker thread ----

// Reads an optional string property ("" when absent); a TypeError names the field.
std::string NlStr(Napi::Object o, const char *key, bool required, size_t max = 255) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throw Napi::TypeError::New(o.Env(), std::string("netlink: ") + key + " is missing");
    return "";
  }
  if (!v.IsString())
    throw Napi::TypeError::New(o.Env(), std::string("netlink: ") + key + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.size() > max || s.find('\0') != std::string::npos)
    throw Napi::TypeError::New(o.Env(), std::string("netlink: ") + key + " is invalid");
  return s;
}

std::string NlIfname(Napi::Object o, const char *key, bool required) {
  return NlStr(o, key, required, IFNAMSIZ - 1);
}

// "a.b.c.d/len" or "x::y/len" (or a bare address when allow_bare: gateways).
tsc_nl_addr NlAddr(Napi::Env env, const std::string &text, bool allow_bare) {
  tsc_nl_addr a{};
  std::string ip = text;
  size_t slash = text.find('/');
  a.family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int max = a.family == AF_INET6 ? 128 : 32;
  a.prefix = max;
  if (slash != std::string::npos) {
    ip = text.substr(0, slash);
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos)
      throw Napi::TypeError::New(env, "netlink: bad prefix length in " + text);
    a.prefix = std::stoi(len);
    if (a.prefix > max) throw Napi::TypeError::New(env, "netlink: bad prefix length in " + text);
  } else if (!allow_bare) {
    throw Napi::TypeError::New(env, "netlink: address " + text + " needs a prefix length");
  }
  if (inet_pton(a.family, ip.c_str(), a.addr) != 1)
    throw Napi::TypeError::New(env, "netlink: bad address " + text);
  return a;
}

std::vector<tsc_nl_addr> NlAddrs(Napi::Object o, const char *key, bool bare, size_t max) {
  std::vector<tsc_nl_addr> out;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray())
    throw Napi::TypeError::New(o.Env(), std::string("netlink: ") + key + " must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  if (arr.Length() > max)
    throw Napi::TypeError::New(o.Env(), std::string("netlink: too many ") + key);
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsString())
      throw Napi::TypeError::New(o.Env(), std::string("netlink: ") + key + " must hold strings");
    out.push_back(NlAddr(o.Env(), e.As<Napi::String>().Utf8Value(), bare));
  }
  return out;
}

bool NlMac(Napi::Env env, const std::string &text, uint8_t mac[6]) {
  if (text.empty()) return false;
  unsigned b[6];
  char tail;
  if (text.size() != 17 || sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                                  &b[3], &b[4], &b[5], &tail) != 6)
    throw Napi::TypeError::New(env, "netlink: bad mac " + text);
  for (int i = 0; i < 6; i++) mac[i] = static_cast<uint8_t>(b[i]);
  return true;
}

uint32_t NlMode(Napi::Env env, const std::string &kind, const std::string &mode) {
  if (kind == "macvlan") {
    if (mode.empty() || mode == "bridge") return MACVLAN_MODE_BRIDGE;
    if (mode == "private") return MACVLAN_MODE_PRIVATE;
    if (mode == "vepa") return MACVLAN_MODE_VEPA;
    if (mode == "passthru") return MACVLAN_MODE_PASSTHRU;
  } else if (kind == "ipvlan") {
    if (mode.empty() || mode == "l2") return IPVLAN_MODE_L2;
    if (mode == "l3") return IPVLAN_MODE_L3;
    if (mode == "l3s") return IPVLAN_MODE_L3S;
  } else {
    return 0;
  }
  throw Napi::TypeError::New(env, "netlink: bad " + kind + " mode " + mode);
}

uint16_t NlIpvlanFlag(Napi::Env env, const std::string &flag) {
  if (flag.empty() || flag == "bridge") return 0;
  if (flag == "private") return IPVLAN_F_PRIVATE;
  if (flag == "vepa") return IPVLAN_F_VEPA;
  throw Napi::TypeError::New(env, "netlink: bad ipvlan flag " + flag);
}

// Runs one netlink operation on the libuv pool; resolves {errno, step, message} (errno 0 = ok).
class NetlinkWorker : public Napi::AsyncWorker {
 public:
  NetlinkWorker(Napi::Env env, std::function<void(tsc_nl_result *)> op)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), op_(std::move(op)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { op_(&result_); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("errno", Napi::Number::New(env, result_.err));
    r.Set("step", Napi::String::New(env, result_.step));
    r.Set("message", Napi::String::New(env, result_.message));
    r.Set("warning", Napi::String::New(env, result_.warning));
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void(tsc_nl_result *)> op_;
  tsc_nl_result result_{};
};

Napi::Value Queue(Napi::Env env, std::function<void(tsc_nl_result *)> op) {
  auto *w = new NetlinkWorker(env, std::move(op));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object NlObj(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(info.Env(), "netlink: options must be an object");
  return info[0].As<Napi::Object>();
}

// netlinkAttach({kind, netnsPath|netnsFd, bridge, hostIfname, parent, mode, ipvlanFlag, ifname,
//                mac, mtu, addresses[], gateways[], announce}) -> Promise<{errno, step, message}>
Napi::Value NetlinkAttach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = NlObj(info);
  struct Owned {
    std::string netns, bridge, host, parent, ifname;
    tsc_nl_endpoint a{};
  };
  auto own = std::make_shared<Owned>();
  std::string kind = NlStr(o, "kind", false);
  if (kind.empty()) kind = "veth";
  tsc_nl_endpoint &a = own->a;
  a.kind = kind == "veth" ? TSC_NL_VETH : kind == "macvlan" ? TSC_NL_MACVLAN
           : kind == "ipvlan"                              ? TSC_NL_IPVLAN
                                                           : 0;
  if (a.kind == 0) throw Napi::TypeError::New(env, "netlink: bad kind " + kind);
  own->netns = NlStr(o, "netnsPath", false, 4096);
  a.netns_fd = -1;
  Napi::Value fd = o.Get("netnsFd");
  if (fd.IsNumber()) a.netns_fd = fd.As<Napi::Number>().Int32Value();
  if (own->netns.empty() && a.netns_fd < 0)
    throw Napi::TypeError::New(env, "netlink: netnsPath or netnsFd is required");
  own->ifname = NlIfname(o, "ifname", true);
  if (a.kind == TSC_NL_VETH) {
    own->host = NlIfname(o, "hostIfname", true);
    own->bridge = NlIfname(o, "bridge", false);
  } else {
    own->parent = NlIfname(o, "parent", true);
  }
  a.mode = NlMode(env, kind, NlStr(o, "mode", false));
  a.ipvlan_flags = NlIpvlanFlag(env, NlStr(o, "ipvlanFlag", false));
  a.has_mac = NlMac(env, NlStr(o, "mac", false), a.mac) ? 1 : 0;
  Napi::Value mtu = o.Get("mtu");
  if (mtu.IsNumber()) a.mtu = mtu.As<Napi::Number>().Uint32Value();
  auto addrs = NlAddrs(o, "addresses", false, TSC_NL_MAX_ADDRS);
  for (size_t i = 0; i < addrs.size(); i++) a.addrs[i] = addrs[i];
  a.naddrs = static_cast<int>(addrs.size());
  auto gws = NlAddrs(o, "gateways", true, 2);
  for (size_t i = 0; i < gws.size(); i++) a.gateways[i] = gws[i];
  a.ngateways = static_cast<int>(gws.size());
  Napi::Value announce = o.Get("announce");
  a.no_announce = announce.IsBoolean() && !announce.As<Napi::Boolean>().Value() ? 1 : 0;
  a.netns_path = own->netns.empty() ? nullptr : own->netns.c_str();
  a.bridge = own->bridge.c_str();
  a.host_ifname = own->host.c_str();
  a.parent = own->parent.c_str();
  a.ifname = own->ifname.c_str();
  return Queue(env, [own](tsc_nl_result *r) { tsc_nl_attach(&own->a, r); });
}

// netlinkAnnounce({netnsPath|netnsFd, ifname, hostIfname?, addresses[]}) -> Promise<{errno, step, message,
// warning}>: gratuitous ARP / unsolicited NA from inside the netns (netlink.c tsc_nl_announce).
Napi::Value NetlinkAnnounce(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = NlObj(info);
  std::string ns = NlStr(o, "netnsPath", false, 4096);
  int fd = -1;
  Napi::Value fdv = o.Get("netnsFd");
  if (fdv.IsNumber()) fd = fdv.As<Napi::Number>().Int32Value();
  if (ns.empty() && fd < 0)
    throw Napi::TypeError::New(env, "netlink: netnsPath or netnsFd is required");
  std::string ifname = NlIfname(o, "ifname", true);
  std::string host = NlIfname(o, "hostIfname", false);
  auto addrs = NlAddrs(o, "addresses", false, TSC_NL_MAX_ADDRS);
  return Queue(env, [ns, fd, ifname, host, addrs](tsc_nl_result *r) {
    tsc_nl_announce(ns.empty() ? nullptr : ns.c_str(), fd, ifname.c_str(), host.c_str(),
                    addrs.data(), static_cast<int>(addrs.size()), r);
  });
}

// netlinkLinkDel(name, netnsPath?) -> Promise<{errno, step, message}>
Napi::Value NetlinkLinkDel(const Napi::CallbackInfo &info) {
  std::string name = StrArg(info, 0, "name");
  std::string ns;
  OptStrArg(info, 1, "netnsPath", ns);
  if (name.empty() || name.size() >= IFNAMSIZ)
    throw Napi::TypeError::New(info.Env(), "netlink: bad link name " + name);
  return Queue(info.Env(), [name, ns](tsc_nl_result *r) {
    tsc_nl_link_del(name.c_str(), ns.empty() ? nullptr : ns.c_str(), r);
  });
}

// netlinkBridgeCreate({name, mac, mtu, addresses[]}) -> Promise<{errno, step, message}>
Napi::Value NetlinkBridgeCreate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = NlObj(info);
  std::string name = NlIfname(o, "name", true);
  uint8_t mac[6];
  bool has_mac = NlMac(env, NlStr(o, "mac", false), mac);
  uint32_t mtu = 0;
  Napi::Value m = o.Get("mtu");
  if (m.IsNumber()) mtu = m.As<Napi::Number>().Uint32Value();
  auto addrs = NlAddrs(o, "addresses", false, TSC_NL_MAX_ADDRS);
  std::array<uint8_t, 6> macv{};
  std::copy(mac, mac + 6, macv.begin());
  return Queue(env, [name, has_mac, macv, mtu, addrs](tsc_nl_result *r) {
    tsc_nl_bridge_create(name.c_str(), has_mac ? macv.data() : nullptr, mtu, addrs.data(),
                         static_cast<int>(addrs.size()), r);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  exports.Set("specVersion", Napi::Number::New(env, TSC_SPEC_VERSION));
  exports.Set("encodeLaunchSpec", Napi::Function::New(env, EncodeLaunchSpec));
  exports.Set("decodeLaunchSpec", Napi::Function::New(env, DecodeLaunchSpec));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("umount2Async", Napi::Function::New(env, Umount2Async));
  exports.Set("mountAsync", Napi::Function::New(env, MountAsync));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("setxattr", Napi::Function::New(env, Setxattr));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("netlinkAttach", Napi::Function::New(env, NetlinkAttach));
  exports.Set("netlinkLinkDel", Napi::Function::New(env, NetlinkLinkDel));
  exports.Set("netlinkBridgeCreate", Napi::Function::New(env, NetlinkBridgeCreate));
  exports.Set("netlinkAnnounce", Napi::Function::New(env, NetlinkAnnounce));
  return exports;
}

}  // namespace

NODE_API_MODULE(tscompose, Init)
