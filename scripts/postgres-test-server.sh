#!/bin/sh
# Starts a throwaway PostgreSQL cluster on loopback for the tests and prints the URL to export
# as VIGIL_TEST_POSTGRES:
#
#     export VIGIL_TEST_POSTGRES=$(scripts/postgres-test-server.sh start /tmp/vigil-pg 55432)
#     scripts/postgres-test-server.sh stop /tmp/vigil-pg
#
# The cluster lives in DIR (created by initdb, trust authentication on 127.0.0.1 only) and runs as
# the `postgres` user when started by root, since PostgreSQL refuses to run as root. It offers
# TLS with a self-signed certificate for localhost and 127.0.0.1, in DIR-tls/server.crt: the
# tests trust it through VIGIL_TEST_POSTGRES_CA.
set -eu
command=${1:?usage: postgres-test-server.sh start|stop DIR [PORT]}
dir=${2:?usage: postgres-test-server.sh start|stop DIR [PORT]}
port=${3:-55432}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v pg_ctl)")

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "$command" in
start)
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
        as_owner "'$bindir/initdb' -D '$dir' -U vigil --auth=trust --no-sync -E UTF8 --locale=C" >/dev/null
    fi
    tls="$dir-tls"
    if [ ! -f "$tls/server.crt" ]; then
        mkdir -p "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.crt" 2>/dev/null
        chmod 600 "$tls/server.key"
        [ "$(id -u)" -ne 0 ] || chown postgres "$tls/server.key"
        chmod 755 "$tls"
        chmod 644 "$tls/server.crt"
    fi
    # fsync off: a test cluster is thrown away, and CI's disk is shared.
    as_owner "'$bindir/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file='$tls/server.crt' -c ssl_key_file='$tls/server.key'\" start" >/dev/null
    as_owner "'$bindir/psql' -h 127.0.0.1 -p $port -U vigil -d postgres -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'vigil_test'\"" | grep -q 1 ||
        as_owner "'$bindir/createdb' -h 127.0.0.1 -p $port -U vigil vigil_test"
    echo "postgresql://vigil@127.0.0.1:$port/vigil_test"
    ;;
stop)
    as_owner "'$bindir/pg_ctl' -D '$dir' -m fast stop" >/dev/null
    ;;
*)
    echo "usage: postgres-test-server.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
