#!/usr/bin/env bash
# Runs a built stand-in without the engine, for checking the images: unpacks tag NAME of the OCI
# layout into DIR (once), then runs its Entrypoint+Cmd (or CMD given) under chroot in new PID and
# mount namespaces (`unshare --kill-child`: killing this process by pid ends everything it started;
# its mounts vanish with the namespace). Not a container runtime: no cgroups, no user switch of ours.
# Usage: run-rootfs.sh [--netns NS] [-v SRC:DST]... [-e K=V]... [--entrypoint PROG] NAME DIR [CMD...]
set -euo pipefail

if [ "${1:-}" = --inner ]; then
  # Inside the namespaces: --inner ROOTFS CWD NVOL SRC DST ... NENV K=V ... ARGV...
  shift
  r="$1" cwd="$2" n="$3"
  shift 3
  mount --rbind /dev "$r/dev"
  for ((i = 0; i < n; i++)); do
    src="$1" dst="$r$2"
    shift 2
    # A symlink would resolve outside the rootfs: refuse (the engine resolves inside it).
    [ -L "$dst" ] && { echo "run-rootfs.sh: mount target $2 is a symlink in the image" >&2; exit 1; }
    if [ -d "$src" ]; then mkdir -p "$dst"; else
      mkdir -p "$(dirname "$dst")"
      [ -e "$dst" ] || : >"$dst"
    fi
    mount --bind "$src" "$dst"
  done
  n="$1"
  shift
  envs=("${@:1:$n}")
  shift "$n"
  exec chroot "$r" /usr/bin/env -i "${envs[@]}" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
fi

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root run-rootfs.sh
netns="" entrypoint="" vols=() envs=() has_ep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns="$2"; shift 2 ;;
    -v) vols+=("${2%%:*}" "${2#*:}"); shift 2 ;;
    -e) envs+=("$2"); shift 2 ;;
    --entrypoint) entrypoint="$2"; has_ep=1; shift 2 ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || die "usage: run-rootfs.sh [--netns NS] [-v SRC:DST]... [-e K=V]... [--entrypoint PROG] NAME DIR [CMD...]"
name="$1" dir="$2"
shift 2
if [ ! -d "$dir/rootfs" ]; then
  mkdir -p "$dir"
  umoci raw unpack --image "$OCI_LAYOUT:$name" "$dir/rootfs" >/dev/null 2>&1 || die "unpack $name into $dir failed"
fi
# The image config of tag NAME: Entrypoint, Cmd, Env, WorkingDir, NUL-separated by node.
mapfile -d '' cfg < <(node -e '
  const fs = require("fs"), path = require("path");
  const [layout, tag] = process.argv.slice(1);
  const blob = (d) => JSON.parse(fs.readFileSync(path.join(layout, "blobs", ...d.split(":"))));
  const idx = JSON.parse(fs.readFileSync(path.join(layout, "index.json")));
  const m = idx.manifests.find((x) => (x.annotations || {})["org.opencontainers.image.ref.name"] === tag);
  if (!m) { console.error(`no tag ${tag} in ${layout}`); process.exit(1); }
  const c = blob(blob(m.digest).config.digest).config || {};
  const out = [JSON.stringify(c.Entrypoint || []), JSON.stringify(c.Cmd || []), JSON.stringify(c.Env || []), c.WorkingDir || "/"];
  process.stdout.write(out.join("\0") + "\0");
' "$OCI_LAYOUT" "$name")
fromjson() { node -e 'for (const a of JSON.parse(process.argv[1])) process.stdout.write(a + "\0")' "$1"; }
mapfile -d '' ep < <(fromjson "${cfg[0]}")
mapfile -d '' cmd < <(fromjson "${cfg[1]}")
mapfile -d '' imgenv < <(fromjson "${cfg[2]}")
[ "$has_ep" = 1 ] && { if [ -n "$entrypoint" ]; then ep=("$entrypoint"); else ep=(); fi; }
[ $# -gt 0 ] && cmd=("$@")
[ "$has_ep" = 1 ] && [ $# = 0 ] && cmd=()
argv=("${ep[@]}" "${cmd[@]}")
[ "${#argv[@]}" -gt 0 ] || die "$name: no command"
allenv=("${imgenv[@]}" HOSTNAME="$name" HOME=/root "${envs[@]}")
nsexec=()
[ -n "$netns" ] && nsexec=(ip netns exec "$netns")
exec "${nsexec[@]}" unshare --fork --pid --mount --kill-child --mount-proc="$dir/rootfs/proc" -- \
  "$OFFLINE_DIR/run-rootfs.sh" --inner "$dir/rootfs" "${cfg[3]}" $((${#vols[@]} / 2)) "${vols[@]}" \
  "${#allenv[@]}" "${allenv[@]}" "${argv[@]}"
