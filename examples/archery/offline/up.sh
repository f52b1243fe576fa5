#!/usr/bin/env bash
# Offline mode of the Archery example, idempotent: builds (or reuses) the stand-in images, starts
# the loopback registry and pushes them under the upstream names, makes it the engine's Docker Hub
# mirror, then runs the unmodified compose file: `tscompose up -d --wait`.
# Usage: examples/archery/offline/up.sh [extra `up` flags]   (root)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root up.sh

"$OFFLINE_DIR/build-images.sh"
"$OFFLINE_DIR/registry.sh" start
"$OFFLINE_DIR/registry.sh" push

cd "$REPO_DIR"
if [ ! -d node_modules ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi
if [ ! -f dist/cli/tscompose.js ] ||
  [ -n "$(find base cli compose engine native -name '*.ts' -newer dist/cli/tscompose.js -print -quit)" ]; then
  log "building tscompose (npm run build)"
  npm run build --silent >&2
fi
# the command itself (its #! line): `node file` would let node act on --env-file in "$@"
TSCOMPOSE=("$REPO_DIR/dist/cli/tscompose.js")

ENGINE_CONFIG="${TSCOMPOSE_ENGINE_CONFIG:-/etc/tscompose/engine.json}"
export TSCOMPOSE_ENGINE_CONFIG="$ENGINE_CONFIG"
changed="$("$OFFLINE_DIR/engine-config.sh" add)"
# The CLI finds the engine through /etc/tscompose/engine.json's socket; with another config file,
# point it at that file's socket.
socket="$("$OFFLINE_DIR/engine-config.sh" socket)"
[ -n "$socket" ] && [ -z "${DOCKER_HOST:-}" ] && export DOCKER_HOST="unix://$socket"
[ "$changed" = changed ] && log "engine config $ENGINE_CONFIG: registry-mirrors has http://$REGISTRY_ADDR"
if "${TSCOMPOSE[@]}" engine status --config "$ENGINE_CONFIG" >/dev/null 2>&1; then
  if [ "$changed" = changed ]; then
    # A running engine read its config when it started: restart it so pulls use the mirror.
    log "restarting the engine to load the mirror"
    "${TSCOMPOSE[@]}" engine stop --config "$ENGINE_CONFIG" >&2
    "${TSCOMPOSE[@]}" engine start --config "$ENGINE_CONFIG" >&2
  fi
else
  "${TSCOMPOSE[@]}" engine start --config "$ENGINE_CONFIG" >&2
fi

"${TSCOMPOSE[@]}" -f "$ARCHERY_DIR/docker-compose.yml" up -d --wait "$@"
echo
echo "Archery stack is up (offline stand-ins). Status page: http://127.0.0.1:9123/"
echo "  JSON:  curl 'http://127.0.0.1:9123/?format=json'"
echo "  MySQL: mysql -h 127.0.0.1 -P 3306 -uroot -p123456 archery"
echo "  Stop:  $OFFLINE_DIR/down.sh"
