#!/usr/bin/env bash
# Takes the offline Archery stack down: `tscompose down` of the compose file, then stops the
# loopback registry up.sh started (by its pid file). The bind-mounted data directories stay.
# Usage: examples/archery/offline/down.sh [extra `down` flags]   (root)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root down.sh

rc=0
socket="$("$OFFLINE_DIR/engine-config.sh" socket)"
[ -n "$socket" ] && [ -z "${DOCKER_HOST:-}" ] && export DOCKER_HOST="unix://$socket"
if [ -f "$REPO_DIR/dist/cli/tscompose.js" ]; then
  node "$REPO_DIR/dist/cli/tscompose.js" -f "$ARCHERY_DIR/docker-compose.yml" down "$@" || rc=$?
else
  log "no dist/cli/tscompose.js: nothing to take down (run npm run build first)"
fi
"$OFFLINE_DIR/registry.sh" stop
exit "$rc"
