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

# push_postgres_image REGISTRY: Debian's PostgreSQL server packaged as the image CloudNativePG
# runs its instances from, pushed to REGISTRY as `cloudnative-pg/postgresql:<major>`, the path and
# tag of upstream's images (components/data/postgresCluster.ts, postgresImage). Laid out as
# upstream's: the server's binaries on PATH (the instance manager runs initdb, pg_ctl and
# postgres by name), user postgres as uid 26, a home for the data volume. The libraries the
# binaries load come along at their paths, with an ld.so cache; busybox is /bin/sh, which initdb
# and pg_ctl start commands through. Needs sourced real-node.sh (scratch_image, $node). Sets
# $postgres_image_major.
push_postgres_image() {
  # The server start_postgres runs, else Debian's 15.
  local registry=$1 bin=${postgres_bin:-/usr/lib/postgresql/15/bin} major root library
  [[ -x $bin/postgres ]] || need_command "$bin/postgres" postgresql
  major=$(basename "$(dirname "$bin")")
  postgres_image_major=$major
  root=$node/images/postgresql
  mkdir -p "$root"/{bin,etc,tmp,var/lib/postgresql,var/run/postgresql}
  # tar, not cp --parents, which would make the parents root's alone (0700 here).
  tar -C / --exclude="usr/lib/postgresql/$major/lib/bitcode" --exclude='llvmjit*' -cf - \
    "usr/lib/postgresql/$major" "usr/share/postgresql/$major" usr/share/zoneinfo | tar -C "$root" -xf -
  # Every library a binary or a loadable module needs, at its own path (the loader too).
  while read -r library; do cp -L --parents "$library" "$root"; done < <(
    find "$root/usr/lib/postgresql/$major" -type f \( -perm -u+x -o -name '*.so' \) -exec ldd {} + 2>/dev/null |
      awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' | sort -u
  )
  ldconfig -r "$root"
  cp "$(command -v busybox)" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  printf 'root:x:0:0::/:/bin/sh\npostgres:x:26:26::/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:26:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown -R 26:26 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  scratch_image "$registry" "cloudnative-pg/postgresql:$major" "$root" 26:26 "/usr/lib/postgresql/$major/bin/postgres" \
    "PATH=/usr/lib/postgresql/$major/bin:/bin" "PGDATA=/var/lib/postgresql/data/pgdata"
  log "PostgreSQL image $registry/cloudnative-pg/postgresql:$major from Debian's $("$bin/postgres" --version)"
}
