# Sourced by .ci/run: starts a throwaway PostgreSQL server for the
# PostgreSQL store's tests, exports STEPFN_PG_URL, and stops and removes
# the server when the calling shell exits. Works as root (initdb refuses
# root: the server runs as the `postgres` user, or `nobody` where there is
# none) and as an ordinary user. The server binaries are looked for in
# /usr/lib/postgresql/*/bin (Debian's layout), then on PATH and in
# /usr/local/bin; Debian's `postgresql` package is installed only when
# neither has them. The server listens on a Unix socket in its temporary
# directory and on no TCP port, so that runs on one machine never collide.

stepfn_pg_bin() {
  local dir candidate
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  for candidate in "$(command -v initdb 2>/dev/null || true)" /usr/local/bin/initdb; do
    [ -n "$candidate" ] || continue
    dir=$(dirname "$candidate")
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

stepfn_pg_start() {
  local bin owner
  if ! bin=$(stepfn_pg_bin); then
    if [ "$(id -u)" != 0 ]; then
      echo "no PostgreSQL server binaries found, and installing them needs root" >&2
      return 1
    fi
    echo "installing Debian's postgresql for the PostgreSQL store's tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(stepfn_pg_bin)
  fi
  STEPFN_PG_DIR=$(mktemp -d /tmp/stepfn-pg.XXXXXX)
  STEPFN_PG_RUNAS=()
  if [ "$(id -u)" = 0 ]; then
    owner=$(getent passwd postgres >/dev/null && echo postgres || echo nobody)
    chown "$owner" "$STEPFN_PG_DIR"
    chmod 755 "$STEPFN_PG_DIR"
    STEPFN_PG_RUNAS=("$(command -v runuser || echo /usr/sbin/runuser)" -u "$owner" --)
  fi
  STEPFN_PG_CTL="$bin/pg_ctl"
  trap stepfn_pg_stop EXIT
  # -N: no fsync of the new cluster, fine for a throwaway one
  "${STEPFN_PG_RUNAS[@]}" "$bin/initdb" -N -D "$STEPFN_PG_DIR/data" -U postgres \
    --auth=trust -E UTF8 --locale=C >"$STEPFN_PG_DIR/initdb.log"
  "${STEPFN_PG_RUNAS[@]}" "$STEPFN_PG_CTL" -D "$STEPFN_PG_DIR/data" -l "$STEPFN_PG_DIR/log" -w \
    -o "-c listen_addresses= -p 5432 -k $STEPFN_PG_DIR -c max_connections=200 -c fsync=off" \
    start >/dev/null
  export STEPFN_PG_URL="host=$STEPFN_PG_DIR port=5432 user=postgres dbname=postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests: $STEPFN_PG_URL" >&2
}

stepfn_pg_stop() {
  if [ -n "${STEPFN_PG_DIR:-}" ]; then
    "${STEPFN_PG_RUNAS[@]}" "$STEPFN_PG_CTL" -D "$STEPFN_PG_DIR/data" -m immediate -w stop \
      >/dev/null 2>&1 || true
    rm -rf "$STEPFN_PG_DIR"
    STEPFN_PG_DIR=
  fi
}
