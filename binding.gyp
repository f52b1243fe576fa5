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
      # static, against musl (native/build-shim.sh): no dynamic loader at start (latency) and
      # ~0.1 MB resident per container (a static glibc binary maps ~0.9 MB)
      "target_name": "tscompose-shim",
      "type": "none",
      "actions": [
        {
          "action_name": "build_shim",
          "inputs": ["native/build-shim.sh", "native/src/shim.c", "native/src/spec.c",
                     "native/src/init.c", "native/src/jsonlog.c", "native/src/shim.h",
                     "native/src/spec.h"],
          "outputs": ["<(PRODUCT_DIR)/tscompose-shim"],
          "action": ["sh", "native/build-shim.sh", "<(PRODUCT_DIR)/tscompose-shim",
                     "native/src/shim.c", "native/src/spec.c", "native/src/init.c",
                     "native/src/jsonlog.c"],
        },
      ],
    },
  ],
}
