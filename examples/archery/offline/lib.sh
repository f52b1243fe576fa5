#!/usr/bin/env bash
# Shared helpers for the Archery offline scripts (sourced, never run): logging, the cache and state
# dirs, the Debian mirror read from apt's own configuration at run time, recipe hashes.
# Names no package-registry or mirror host: everything host-specific is read from this machine.

# shellcheck disable=SC2034 # these are read by the scripts that source this file
OFFLINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$OFFLINE_DIR/../../.." && pwd)"
# The compose project (docker-compose.yml, its config files and bind-mounted data dirs): this
# example's directory, or a copy of it named by $TSCOMPOSE_ARCHERY_DIR (the e2e test and the bench
# work on a copy so the checkout's data dirs stay untouched).
ARCHERY_DIR="$(cd "${TSCOMPOSE_ARCHERY_DIR:-$OFFLINE_DIR/..}" && pwd)"

# Build cache (debootstrap base, OCI layout) and registry state; both overridable.
CACHE_DIR="${TSCOMPOSE_ARCHERY_CACHE:-/var/cache/tscompose-archery}"
STATE_DIR="${TSCOMPOSE_ARCHERY_STATE:-/var/lib/tscompose-archery}"
# The loopback registry address (never port 2024).
REGISTRY_ADDR="${TSCOMPOSE_ARCHERY_REGISTRY:-127.0.0.1:5000}"
# The OCI image layout every stand-in is tagged in (tags: redis, mysql, goinception, archery).
OCI_LAYOUT="$CACHE_DIR/oci"
# The stand-ins, in build order.
IMAGE_NAMES=(redis mysql goinception archery)

log() { printf '[archery-offline] %s\n' "$*" >&2; }
die() {
  printf '[archery-offline] error: %s\n' "$*" >&2
  exit 1
}

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root"; }

# Installs the Debian packages given when missing (apt-get through the mirror apt is set up with).
ensure_debs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# The Debian suite to build from: $TSCOMPOSE_ARCHERY_SUITE, else this host's VERSION_CODENAME.
debian_suite() {
  if [ -n "${TSCOMPOSE_ARCHERY_SUITE:-}" ]; then
    echo "$TSCOMPOSE_ARCHERY_SUITE"
    return
  fi
  local c
  c="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$c" ] || die "cannot read VERSION_CODENAME from /etc/os-release (set TSCOMPOSE_ARCHERY_SUITE)"
  echo "$c"
}

# Prints apt's enabled `deb` entries as "URI SUITE COMPONENT..." lines, from one-line
# /etc/apt/sources.list{,.d/*.list} and deb822 /etc/apt/sources.list.d/*.sources files
# (sources.list(5)). Options in [...] are skipped, Enabled: no stanzas too. Reads under
# $TSCOMPOSE_ARCHERY_APT_ROOT when set (tests).
apt_deb_entries() {
  local f a="${TSCOMPOSE_ARCHERY_APT_ROOT:-}/etc/apt"
  for f in "$a/sources.list" "$a"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -e 's/#.*//' "$f" | awk '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        line = ""
        for (; i <= NF; i++) line = line (line == "" ? "" : " ") $i
        if (line != "") print line
      }'
  done
  for f in "$a"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
          nu = split(uris, u, " "); ns = split(suites, s, " ")
          for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) print u[a], s[b], comps
        }
        types = ""; uris = ""; suites = ""; comps = ""; enabled = ""; key = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { v = $0; sub(/^[ \t]+/, "", v); if (key == "uris") uris = uris " " v; next }
      {
        k = tolower($0); sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v); key = k
        if (k == "types") types = v
        else if (k == "uris") uris = v
        else if (k == "suites") suites = v
        else if (k == "components") comps = v
        else if (k == "enabled") enabled = tolower(v)
      }
      END { flush() }' "$f"
  done
}

# The mirror URI serving SUITE's main component (first match in apt's configuration), or
# $TSCOMPOSE_ARCHERY_MIRROR when set.
debian_mirror() {
  local suite="$1"
  if [ -n "${TSCOMPOSE_ARCHERY_MIRROR:-}" ]; then
    echo "$TSCOMPOSE_ARCHERY_MIRROR"
    return
  fi
  local uri
  uri="$(apt_deb_entries | awk -v s="$suite" '$2 == s && / main( |$)/ { print $1; exit }')"
  [ -n "$uri" ] || die "no enabled 'deb ... $suite main' entry in apt's sources (set TSCOMPOSE_ARCHERY_MIRROR)"
  echo "$uri"
}

# The one-line sources.list for the image build chroots: apt's entries for SUITE and its
# -updates/-security suites, main component only.
debian_sources_list() {
  local suite="$1"
  if [ -n "${TSCOMPOSE_ARCHERY_MIRROR:-}" ]; then
    echo "deb $TSCOMPOSE_ARCHERY_MIRROR $suite main"
    return
  fi
  apt_deb_entries | awk -v s="$suite" '
    ($2 == s || $2 == s "-updates" || $2 == s "-security") && / main( |$)/ && !seen[$1 " " $2]++ {
      print "deb " $1 " " $2 " main"
    }'
}

# sha256 of files and directories (paths relative to $OFFLINE_DIR, contents and modes), plus any
# extra words given after "--".
recipe_hash() {
  local paths=() extra=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then
      shift
      extra=("$@")
      break
    fi
    paths+=("$1")
    shift
  done
  {
    (cd "$OFFLINE_DIR" && find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z |
      xargs -0 -r stat -c '%n %a' && find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z |
      xargs -0 -r sha256sum)
    printf '%s\n' "${extra[@]}"
  } | sha256sum | cut -c1-16
}
