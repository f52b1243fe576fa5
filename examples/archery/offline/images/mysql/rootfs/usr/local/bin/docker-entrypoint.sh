#!/bin/bash
# tscompose offline stand-in for mysql:5.7's entrypoint, on Debian's mariadb-server. Like the
# official image: `mysqld ARGS` (or ARGS starting with "-") initialises an empty data dir (root
# password from MYSQL_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD / MYSQL_RANDOM_ROOT_PASSWORD,
# root@'%', MYSQL_DATABASE, MYSQL_USER/MYSQL_PASSWORD, /docker-entrypoint-initdb.d), then runs
# mysqld in the foreground as the mysql user, reading /etc/mysql/my.cnf. *_FILE variants honoured.
set -eo pipefail

note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date -u +%FT%T.%6NZ)" "$*"; }
fail() {
  printf '%s [ERROR] [Entrypoint]: %s\n' "$(date -u +%FT%T.%6NZ)" "$*" >&2
  exit 1
}

# VAR or the content of the file VAR_FILE names.
file_env() {
  local var="$1" file="${1}_FILE" def="${2:-}"
  if [ -n "${!var:-}" ] && [ -n "${!file:-}" ]; then fail "both $var and $file are set"; fi
  local val="$def"
  if [ -n "${!var:-}" ]; then val="${!var}"; elif [ -n "${!file:-}" ]; then val="$(<"${!file}")"; fi
  export "$var"="$val"
  unset "$file"
}

# A server variable as mysqld would use it with these arguments and the config files.
server_var() {
  "$@" --verbose --help 2>/dev/null | awk -v k="$VAR_NAME" '$1 == k { print $2; exit }'
}

sql_quote() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g")"; }

if [ "${1:0:1}" = - ]; then set -- mysqld "$@"; fi

if [ "$1" = mysqld ] || [ "$1" = mariadbd ]; then
  VAR_NAME=datadir DATADIR="$(server_var "$@")"
  VAR_NAME=socket SOCKET="$(server_var "$@")"
  DATADIR="${DATADIR:-/var/lib/mysql/}"
  SOCKET="${SOCKET:-/run/mysqld/mysqld.sock}"
  mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
  if [ "$(id -u)" = 0 ]; then
    chown mysql:mysql "$(dirname "$SOCKET")"
    find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
  fi

  if [ ! -d "$DATADIR/mysql" ]; then
    file_env MYSQL_ROOT_PASSWORD
    file_env MYSQL_DATABASE
    file_env MYSQL_USER
    file_env MYSQL_PASSWORD
    file_env MYSQL_ROOT_HOST %
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] &&
      [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
      fail "database is uninitialized and password option is not specified
    You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
      MYSQL_ROOT_PASSWORD="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)"
      note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi

    note "Initializing database files in $DATADIR (MariaDB stand-in for mysql:5.7)"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
      --auth-root-authentication-method=normal --skip-name-resolve "${@:2}" >/dev/null
    note "Database files initialized"

    note "Starting temporary server"
    "$@" --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
    tmp_pid=$!
    client=(mariadb --protocol=socket --socket="$SOCKET" -uroot --database=mysql)
    for i in $(seq 60); do
      if "${client[@]}" -e 'select 1' >/dev/null 2>&1; then break; fi
      kill -0 "$tmp_pid" 2>/dev/null || fail "temporary server exited during init"
      [ "$i" = 60 ] && fail "unable to start the temporary server"
      sleep 1
    done
    note "Temporary server started"

    # Keep only root@localhost and the system accounts (like the official image), then root@'%'.
    drop="$("${client[@]}" -N -B -e "select concat(quote(user), '@', quote(host)) from mysql.global_priv
      where not (user = 'root' and host = 'localhost') and user not in ('mariadb.sys', 'mysql')")"
    {
      echo "SET @@SESSION.SQL_LOG_BIN=0;"
      for u in $drop; do echo "DROP USER IF EXISTS $u;"; done
      echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_quote "$MYSQL_ROOT_PASSWORD");"
      echo "GRANT ALL ON *.* TO 'root'@'localhost' WITH GRANT OPTION;"
      if [ "$MYSQL_ROOT_HOST" != localhost ]; then
        echo "CREATE USER IF NOT EXISTS 'root'@$(sql_quote "$MYSQL_ROOT_HOST") IDENTIFIED BY $(sql_quote "$MYSQL_ROOT_PASSWORD");"
        echo "GRANT ALL ON *.* TO 'root'@$(sql_quote "$MYSQL_ROOT_HOST") WITH GRANT OPTION;"
      fi
      if [ -n "$MYSQL_DATABASE" ]; then
        echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
      fi
      if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        echo "CREATE USER $(sql_quote "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_quote "$MYSQL_PASSWORD");"
        [ -n "$MYSQL_DATABASE" ] &&
          echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO $(sql_quote "$MYSQL_USER")@'%';"
      fi
      echo "FLUSH PRIVILEGES;"
    } | "${client[@]}"
    client+=(--password="$MYSQL_ROOT_PASSWORD")
    [ -n "$MYSQL_DATABASE" ] && client+=(--database="$MYSQL_DATABASE")

    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sh) note "$0: running $f" && . "$f" ;;
        *.sql) note "$0: running $f" && "${client[@]}" <"$f" ;;
        *.sql.gz) note "$0: running $f" && gunzip -c "$f" | "${client[@]}" ;;
        *) ;;
      esac
    done

    note "Stopping temporary server"
    mariadb-admin --socket="$SOCKET" -uroot --password="$MYSQL_ROOT_PASSWORD" shutdown
    wait "$tmp_pid" || true
    note "Temporary server stopped"
    note "MySQL init process done. Ready for start up."
  fi

  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=mysql --regid=mysql --init-groups "$@"
  fi
fi

exec "$@"
