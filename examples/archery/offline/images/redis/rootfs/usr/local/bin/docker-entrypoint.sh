#!/bin/sh
# tscompose offline stand-in for redis:5's entrypoint (Debian redis-server): like the official one,
# `redis-server ARGS` (or just ARGS starting with "-" / a .conf file) runs in the foreground as the
# redis user; protected mode is off (other containers reach it), daemonize is off.
set -e
case "$1" in
  -* | *.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ]; then
  shift
  conf=
  case "$1" in
    *.conf)
      conf="$1"
      shift
      ;;
  esac
  # Later options win in redis-server, so a user's own --protected-mode/--bind still applies.
  set -- redis-server ${conf:+"$conf"} --protected-mode no --daemonize no "$@"
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
