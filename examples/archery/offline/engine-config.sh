#!/usr/bin/env bash
# Adds the loopback registry to the tscompose engine config (engine/config.ts's file, dockerd
# daemon.json keys): "http://$REGISTRY_ADDR" first in registry-mirrors (the Docker Hub mirror) and
# $REGISTRY_ADDR in insecure-registries; other keys are kept. `remove` takes them out again.
# Prints "changed" or "unchanged". `socket` prints the file's `socket` when the file is not the
# default one (the CLI reads only the default), else nothing.
# Config path: $TSCOMPOSE_ENGINE_CONFIG or /etc/tscompose/engine.json.
# Usage: engine-config.sh add|remove|socket
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENGINE_CONFIG="${TSCOMPOSE_ENGINE_CONFIG:-/etc/tscompose/engine.json}"
mode="${1:-}"
case "$mode" in
  add | remove) ;;
  socket)
    [ "$ENGINE_CONFIG" = /etc/tscompose/engine.json ] && exit 0
    [ -f "$ENGINE_CONFIG" ] || exit 0
    node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (c.socket) console.log(c.socket)' "$ENGINE_CONFIG"
    exit 0
    ;;
  *) die "usage: engine-config.sh add|remove|socket" ;;
esac
mkdir -p "$(dirname "$ENGINE_CONFIG")"
node -e '
  const fs = require("fs");
  const [file, mode, addr] = process.argv.slice(1);
  let cfg = {};
  try { cfg = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) {
    if (e.code !== "ENOENT") { console.error(`read ${file}: ${e.message}`); process.exit(1); }
  }
  const before = JSON.stringify(cfg);
  const mirror = `http://${addr}`;
  const without = (list, v) => (list || []).filter((x) => x.replace(/\/+$/, "") !== v);
  if (mode === "add") {
    cfg["registry-mirrors"] = [mirror, ...without(cfg["registry-mirrors"], mirror)];
    cfg["insecure-registries"] = [...without(cfg["insecure-registries"], addr), addr];
  } else {
    for (const [k, v] of [["registry-mirrors", mirror], ["insecure-registries", addr]]) {
      if (!cfg[k]) continue;
      cfg[k] = without(cfg[k], v);
      if (cfg[k].length === 0) delete cfg[k];
    }
  }
  if (JSON.stringify(cfg) === before) { console.log("unchanged"); process.exit(0); }
  fs.writeFileSync(file + ".tmp", JSON.stringify(cfg, null, 2) + "\n");
  fs.renameSync(file + ".tmp", file);
  console.log("changed");
' "$ENGINE_CONFIG" "$mode" "$REGISTRY_ADDR"
