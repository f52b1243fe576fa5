#!/bin/sh
# Builds the tscompose-shim executable (run by node-gyp, binding.gyp): statically linked against
# musl, so each container's shim keeps ~0.1 MB resident instead of the ~0.9 MB a static glibc
# binary maps. When musl-gcc is missing it installs Debian's musl-tools with apt-get (as root, as
# the project's other steps install what they need); when that is impossible it links statically
# against glibc and says so. Usage: build-shim.sh OUTPUT SOURCE.c...
set -eu
out=$1
shift
if ! command -v musl-gcc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tscompose-shim: installing musl-tools with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends musl-tools >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends musl-tools >&2; } ||
    echo "tscompose-shim: musl-tools could not be installed" >&2
fi
flags="-std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -fstack-protector-strong -static"
if command -v musl-gcc >/dev/null 2>&1; then
  # musl-gcc searches only musl's headers; the kernel's (linux/, asm/) come from the system
  multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  # shellcheck disable=SC2086
  exec musl-gcc $flags -idirafter /usr/include -idirafter "/usr/include/$multiarch" "$@" -o "$out"
fi
echo "tscompose-shim: musl-gcc not found: linking statically against glibc (~0.9 MB resident per container instead of ~0.1 MB)" >&2
# shellcheck disable=SC2086
exec "${CC:-cc}" $flags "$@" -o "$out"
