# Native build (node-gyp, run by `npm ci` through the "install" script): the N-API addon
# `tscompose` and the executable `tscompose-shim`. Both share native/src/spec.c (one LaunchSpec
# codec). Sources live in native/src; outputs in build/Release.
{
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-Werror", "-fstack-protector-strong", "-D_GNU_SOURCE"],
    "cflags_c": ["-std=gnu11"],
  },
  "targets": [
    {
      "target_name": "tscompose",
      "sources": ["native/src/addon.cc", "native/src/spec.c", "native/src/sys.c",
                  "native/src/netlink.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17"],
    },
    {
      "target_name": "tscompose-shim",
      "type": "executable",
      "sources": ["native/src/shim.c", "native/src/spec.c", "native/src/init.c",
                  "native/src/jsonlog.c"],
      # static: no dynamic loader at start (latency) and no shared libc pages (resident memory)
      "ldflags": ["-static"],
    },
  ],
}
