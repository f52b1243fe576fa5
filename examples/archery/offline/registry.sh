#!/usr/bin/env bash
# The loopback registry of the Archery offline mode: Debian's docker-registry (distribution 2.8)
# with its own config, storage, log and pid file under $STATE_DIR/registry, listening on
# $REGISTRY_ADDR (default 127.0.0.1:5000). `push` copies the built stand-ins in under the upstream
# names. Stops only the process its pid file names.
# Usage: registry.sh start|stop|status|push [NAME...]|url
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REG_DIR="$STATE_DIR/registry"
PID_FILE="$REG_DIR/registry.pid"
LOG_FILE="$REG_DIR/registry.log"
CONFIG="$REG_DIR/config.yml"

case "$REGISTRY_ADDR" in
  127.* | localhost:* | \[::1\]:*) ;;
  *) die "registry address $REGISTRY_ADDR is not loopback" ;;
esac
[ "${REGISTRY_ADDR##*:}" != 2024 ] || die "port 2024 is reserved"

# The pid of our running registry, or nothing.
running_pid() {
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "docker-registry serve $CONFIG"; then
    echo "$pid"
  fi
}

answers() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

cmd_start() {
  if [ -n "$(running_pid)" ]; then
    log "registry already running on $REGISTRY_ADDR (pid $(running_pid))"
    return
  fi
  ensure_debs docker-registry curl
  answers && die "something else already answers on $REGISTRY_ADDR (set TSCOMPOSE_ARCHERY_REGISTRY)"
  mkdir -p "$REG_DIR/data"
  cat >"$CONFIG" <<YAML
# Written by examples/archery/offline/registry.sh: the Archery stand-ins' loopback registry.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
  setsid docker-registry serve "$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local i
  for i in $(seq 100); do
    answers && break
    if [ -z "$(running_pid)" ]; then
      tail -n 20 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "docker-registry exited (log: $LOG_FILE)"
    fi
    [ "$i" = 100 ] && die "docker-registry did not answer on $REGISTRY_ADDR (log: $LOG_FILE)"
    sleep 0.1
  done
  log "registry running on http://$REGISTRY_ADDR (pid $(cat "$PID_FILE"), storage $REG_DIR/data)"
}

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    log "registry not running"
    return
  fi
  kill -TERM "$pid"
  local i
  for i in $(seq 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  [ -d "/proc/$pid" ] && kill -KILL "$pid"
  rm -f "$PID_FILE"
  log "registry stopped (pid $pid)"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ] && answers; then
    echo "running http://$REGISTRY_ADDR pid $pid storage $REG_DIR/data"
  elif [ -n "$pid" ]; then
    echo "starting or stuck: pid $pid does not answer on $REGISTRY_ADDR"
    return 1
  else
    echo "stopped"
    return 3
  fi
}

# The upstream reference a stand-in is pushed as (images/NAME/image.conf's REF).
image_ref() {
  local REF=""
  # shellcheck disable=SC1090
  . "$OFFLINE_DIR/images/$1/image.conf"
  [ -n "$REF" ] || die "images/$1/image.conf sets no REF"
  echo "$REF"
}

cmd_push() {
  [ -n "$(running_pid)" ] || answers || die "registry not running on $REGISTRY_ADDR (registry.sh start)"
  ensure_debs skopeo
  local names=("$@") n ref fmt=()
  [ "${#names[@]}" -gt 0 ] || names=("${IMAGE_NAMES[@]}")
  [ -n "${TSCOMPOSE_ARCHERY_PUSH_FORMAT:-}" ] && fmt=(--format "$TSCOMPOSE_ARCHERY_PUSH_FORMAT")
  for n in "${names[@]}"; do
    ref="$(image_ref "$n")"
    log "push $n -> $REGISTRY_ADDR/$ref"
    skopeo copy --quiet --dest-tls-verify=false "${fmt[@]}" \
      "oci:$OCI_LAYOUT:$n" "docker://$REGISTRY_ADDR/$ref" >&2 || die "push $n failed"
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  push)
    shift
    cmd_push "$@"
    ;;
  url) echo "http://$REGISTRY_ADDR" ;;
  *) die "usage: registry.sh start|stop|status|push [NAME...]|url" ;;
esac
