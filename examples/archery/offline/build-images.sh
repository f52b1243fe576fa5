#!/usr/bin/env bash
# Builds the Archery stand-in images as OCI images from Debian packages only: a debootstrap base
# (from the mirror apt is configured with) and one diff layer per stand-in (images/<name>/).
# Results are cached in the OCI layout under $CACHE_DIR, keyed by the recipe files' hash.
# Usage: build-images.sh [--force] [NAME...]   (root; NAME in: redis mysql goinception archery)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when this script changes in a way that changes the images.
BUILD_FORMAT=1
FORCE=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,5p' "$0"
      exit 0
      ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ "${#names[@]}" -gt 0 ] || names=("${IMAGE_NAMES[@]}")

need_root build-images.sh
ensure_debs debootstrap umoci debian-archive-keyring

SUITE="$(debian_suite)"
MIRROR="$(debian_mirror "$SUITE")"
WORK="$CACHE_DIR/work"
mkdir -p "$CACHE_DIR"

# Serialise builds sharing one cache.
exec 9>"$CACHE_DIR/.lock"
flock 9

has_tag() {
  local tags
  tags="$(umoci ls --layout "$OCI_LAYOUT" 2>/dev/null)" || return 1
  grep -qx -- "$1" <<<"$tags"
}

# Runs "$@" inside ROOTFS as root, with /dev, /proc and the host's resolver bound in a private
# mount namespace (the mounts vanish with it), services kept from starting (policy-rc.d).
in_chroot() {
  local rootfs="$1"
  shift
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf.build" 2>/dev/null || : >"$rootfs/etc/resolv.conf.build"
  cp /etc/hosts "$rootfs/etc/hosts.build"
  local rc=0
  unshare --mount --fork -- /bin/bash -euc '
    r="$1"; shift
    mount --rbind /dev "$r/dev"
    mount -t proc proc "$r/proc"
    mount --bind "$r/etc/resolv.conf.build" "$r/etc/resolv.conf"
    mount --bind "$r/etc/hosts.build" "$r/etc/hosts"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' _ "$rootfs" "$@" || rc=$?
  rm -f "$rootfs/usr/sbin/policy-rc.d" "$rootfs/etc/resolv.conf.build" "$rootfs/etc/hosts.build"
  return "$rc"
}

# Removes what a build leaves that an image should not carry (apt lists and caches, logs, /dev nodes).
clean_rootfs() {
  local r="$1"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
    "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache
  find "$r/var/log" -type f -delete 2>/dev/null || true
  find "$r/dev" -mindepth 1 -delete 2>/dev/null || true
  : >"$r/etc/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
}

pkg_list() { sed -e 's/#.*//' "$1" | tr -s ' \t\n' ' ' | sed -e 's/^ //' -e 's/ $//'; }

BASE_KEY="$(recipe_hash base -- "format=$BUILD_FORMAT" "suite=$SUITE")"
BASE_TAG="base-$BASE_KEY"

build_base() {
  if [ "$FORCE" = 0 ] && has_tag "$BASE_TAG"; then
    log "base $SUITE: cached ($BASE_TAG)"
    return
  fi
  log "base $SUITE: debootstrap --variant=minbase (a few minutes)"
  [ -d "$OCI_LAYOUT" ] || umoci init --layout "$OCI_LAYOUT"
  rm -rf "$WORK/base"
  mkdir -p "$WORK"
  umoci new --image "$OCI_LAYOUT:$BASE_TAG"
  umoci unpack --image "$OCI_LAYOUT:$BASE_TAG" "$WORK/base"
  local include
  include="$(pkg_list "$OFFLINE_DIR/base/packages" | tr ' ' ',')"
  debootstrap --variant=minbase ${include:+--include="$include"} "$SUITE" "$WORK/base/rootfs" "$MIRROR" \
    >"$WORK/base.debootstrap.log" 2>&1 || {
    tail -n 30 "$WORK/base.debootstrap.log" >&2
    die "debootstrap $SUITE failed (log: $WORK/base.debootstrap.log)"
  }
  debian_sources_list "$SUITE" >"$WORK/base/rootfs/etc/apt/sources.list"
  # Like Debian's container images: no recommends, no docs or man pages.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$WORK/base/rootfs/etc/apt/apt.conf.d/90tscompose-standin"
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
    >"$WORK/base/rootfs/etc/dpkg/dpkg.cfg.d/90tscompose-standin"
  echo "$SUITE" >"$WORK/base/rootfs/etc/hostname"
  clean_rootfs "$WORK/base/rootfs"
  umoci repack --history.created_by "debootstrap --variant=minbase $SUITE" \
    --image "$OCI_LAYOUT:$BASE_TAG" "$WORK/base"
  umoci config --image "$OCI_LAYOUT:$BASE_TAG" --no-history \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.cmd bash --architecture "$(dpkg --print-architecture)" --os linux
  rm -rf "$WORK/base"
}

build_image() {
  local name="$1" dir="$OFFLINE_DIR/images/$1"
  [ -f "$dir/image.conf" ] || die "no recipe images/$name/image.conf"
  local key tag
  key="$(recipe_hash "images/$name" -- "format=$BUILD_FORMAT" "base=$BASE_KEY")"
  tag="$name-$key"
  if [ "$FORCE" = 0 ] && has_tag "$tag"; then
    log "$name: cached ($tag)"
    umoci tag --image "$OCI_LAYOUT:$tag" "$name"
    return
  fi
  local REF="" WORKDIR="" STOPSIGNAL="" PACKAGES=() ENTRYPOINT=() CMD=() ENV=() PORTS=() VOLUMES=() LABELS=()
  # shellcheck disable=SC1091
  . "$dir/image.conf"
  log "$name: building $REF stand-in ($tag)"
  local b="$WORK/$name"
  rm -rf "$b"
  mkdir -p "$WORK"
  umoci unpack --image "$OCI_LAYOUT:$BASE_TAG" "$b"
  if [ -d "$dir/rootfs" ]; then
    tar -C "$dir/rootfs" --owner=0 --group=0 -cf - . | tar -C "$b/rootfs" --no-overwrite-dir -xf -
  fi
  local log_file="$WORK/$name.build.log"
  {
    in_chroot "$b/rootfs" apt-get update -q &&
      in_chroot "$b/rootfs" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" &&
      if [ -f "$dir/setup.sh" ]; then
        cp "$dir/setup.sh" "$b/rootfs/tmp/setup.sh"
        in_chroot "$b/rootfs" /bin/bash -eu /tmp/setup.sh
      fi
  } >"$log_file" 2>&1 || {
    tail -n 30 "$log_file" >&2
    die "$name: build failed (log: $log_file)"
  }
  clean_rootfs "$b/rootfs"
  umoci repack --history.created_by "apt-get install ${PACKAGES[*]} (tscompose archery stand-in)" \
    --image "$OCI_LAYOUT:$tag" "$b"
  local args=(--no-history --clear=config.env --clear=config.cmd --clear=config.entrypoint)
  local x
  for x in "${ENTRYPOINT[@]}"; do args+=(--config.entrypoint "$x"); done
  for x in "${CMD[@]}"; do args+=(--config.cmd "$x"); done
  for x in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${ENV[@]}"; do
    args+=(--config.env "$x")
  done
  for x in "${PORTS[@]}"; do args+=(--config.exposedports "$x"); done
  for x in "${VOLUMES[@]}"; do args+=(--config.volume "$x"); done
  for x in "org.opencontainers.image.title=$REF (tscompose offline stand-in)" \
    "org.opencontainers.image.description=stand-in for $REF built from Debian $SUITE packages by examples/archery/offline" \
    "io.tscompose.standin=true" "io.tscompose.standin.for=$REF" "${LABELS[@]}"; do
    args+=(--config.label "$x")
  done
  [ -n "$WORKDIR" ] && args+=(--config.workingdir "$WORKDIR")
  [ -n "$STOPSIGNAL" ] && args+=(--config.stopsignal "$STOPSIGNAL")
  umoci config --image "$OCI_LAYOUT:$tag" "${args[@]}"
  umoci tag --image "$OCI_LAYOUT:$tag" "$name"
  rm -rf "$b"
}

build_base
for n in "${names[@]}"; do build_image "$n"; done

# Drop tags of older recipes, then unreferenced blobs.
keep=" $BASE_TAG "
for n in "${IMAGE_NAMES[@]}"; do
  keep+=" $n $n-$(recipe_hash "images/$n" -- "format=$BUILD_FORMAT" "base=$BASE_KEY") "
done
for t in $(umoci ls --layout "$OCI_LAYOUT"); do
  case "$keep" in *" $t "*) ;; *) umoci rm --image "$OCI_LAYOUT:$t" ;; esac
done
umoci gc --layout "$OCI_LAYOUT"
log "images ready in $OCI_LAYOUT (tags: ${names[*]})"
