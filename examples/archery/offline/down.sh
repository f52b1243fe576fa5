#!/usr/bin/env bash
# Takes the offline Archery stack down: `tscompose down` of the compose file, then stops the
# loopback registry up.sh started (by its pid file). The bind-mounted data directories stay, and
# the engine keeps running, as dockerd would (`tscompose engine stop` stops it).
# Usage: examples/archery/offline/down.sh [extra `down` flags]   (root)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root down.sh

rc=0
socket="$("$OFFLINE_DIR/engine-config.sh" socket)"
[ -n "$socket" ] && [ -z "${DOCKER_HOST:-}" ] && export DOCKER_HOST="unix://$socket"
ENGINE_CONFIG="${TSCOMPOSE_ENGINE_CONFIG:-/etc/tscompose/engine.json}"
if [ ! -f "$REPO_DIR/dist/cli/tscompose.js" ]; then
  log "no dist/cli/tscompose.js: nothing to take down (run npm run build first)"
elif ! "$REPO_DIR/dist/cli/tscompose.js" engine status --config "$ENGINE_CONFIG" >/dev/null 2>&1; then
  # run twice, or after `engine stop`: no engine, so no container of the stack runs
  log "the engine ($ENGINE_CONFIG) is not running: no containers to take down"
else
  "$REPO_DIR/dist/cli/tscompose.js" -f "$ARCHERY_DIR/docker-compose.yml" down "$@" || rc=$?
fi
"$OFFLINE_DIR/registry.sh" stop
exit "$rc"
