#!/bin/bash
# tscompose offline stand-in for hhyo/archery's startup.sh: instead of nginx + gunicorn + Django,
# one Python HTTP service on $NGINX_PORT (9123) reporting whether the stack's services are reachable.
set -euo pipefail
cd /opt/archery
echo "hhyo/archery stand-in (tscompose offline mode): status page on :${NGINX_PORT:-9123}, no Archery UI"
exec python3 /opt/archery/src/standin/server.py
