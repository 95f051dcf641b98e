# A throwaway PostgreSQL (Debian's package) for the tests that need a real one. Sourced after
# common.sh and with_work_dir.
#
# start_postgres [ADDRESS NETWORK]: initdb into a directory of its own, with the server's settings
# in its postgresql.conf (a free port, fsync off: a test's data need not survive a crash of the
# machine), started by pg_ctl as the `postgres` user, since PostgreSQL refuses to run as root. It
# listens on 127.0.0.1, where the superuser needs no password, and on ADDRESS when given, where
# clients from NETWORK must log in with a password (scram-sha-256).
# Sets $postgres_url (the superuser, database postgres), $postgres_port, $postgres_data (the data
# directory, which `pg_ctl restart` needs) and $postgres_bin. The server is stopped and its
# directory removed on exit, whoever restarted it in between.
start_postgres() {
  local address=${1:-} network=${2:-}
  postgres_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ ! -x $postgres_bin/initdb ]]; then
    need_command /usr/lib/postgresql/15/bin/initdb postgresql
    postgres_bin=/usr/lib/postgresql/15/bin
  fi
  # Not under $work: the postgres user must reach it, and $work is root's alone.
  local root
  root=$(mktemp -d /tmp/flotilla-postgres.XXXXXX)
  chown postgres: "$root"
  postgres_data=$root/data
  before_stop+=(_stop_postgres)
  as_postgres "$postgres_bin/initdb" -D "$postgres_data" -U postgres --auth=trust --no-sync >"$work/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$work/initdb.log")"
  postgres_port=$(free_port)
  cat >>"$postgres_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1${address:+, $address}'
port = $postgres_port
unix_socket_directories = '$root'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  [[ -z $network ]] || echo "host all all $network scram-sha-256" >>"$postgres_data/pg_hba.conf"
  as_postgres "$postgres_bin/pg_ctl" start -w -t 30 -D "$postgres_data" -l "$root/server.log" >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$root/server.log")"
  postgres_url="postgres://postgres@127.0.0.1:$postgres_port/postgres?sslmode=disable"
}

# as_postgres CMD...: runs CMD as the postgres user (setpriv execs it, no session in between).
as_postgres() { setpriv --reuid postgres --regid postgres --init-groups -- "$@"; }

_stop_postgres() {
  as_postgres "$postgres_bin/pg_ctl" stop -m immediate -D "$postgres_data" >/dev/null 2>&1 || true
  rm -rf "$(dirname "$postgres_data")"
}
