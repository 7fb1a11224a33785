#!/bin/sh
# Start PostgreSQL for wasmtask (deploy/postgres/Dockerfile).
#
# First start (no cluster in $PGDATA yet): initdb into $PGDATA.init; the
# superuser `postgres` may log in only over the local socket as the OS user
# postgres (peer); the role $POSTGRES_USER, with $POSTGRES_PASSWORD, owns the
# database $POSTGRES_DB and is the only role allowed in over the network
# (scram-sha-256). The set-up server listens on its socket only, so nothing can
# connect (and the TCP healthcheck stays unhealthy) before it is done; the
# cluster is moved into place last, so a first start that dies half-way leaves
# nothing behind but $PGDATA.init, which the next start redoes.
# Later starts use the cluster as it is: the password is set once (change it
# with ALTER ROLE, deploy/README.md). exec: postgres is PID 1.
set -eu

fail() {
    echo "wasmtask-postgres: $*" >&2
    exit 2
}

: "${PGDATA:?}"
POSTGRES_USER=${POSTGRES_USER:-wasmtask}
POSTGRES_DB=${POSTGRES_DB:-wasmtask}
for name in "$POSTGRES_USER" "$POSTGRES_DB"; do
    case $name in
        "" | [!a-z_]* | *[!a-z0-9_]*) fail "POSTGRES_USER and POSTGRES_DB must be lower-case SQL names: '$name'" ;;
    esac
done

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password=${POSTGRES_PASSWORD:-}
    [ "${#password}" -ge 16 ] \
        || fail "POSTGRES_PASSWORD needs 16 or more characters (WASMTASK_POSTGRES_PASSWORD in the env file: deploy/README.md)"
    case $password in
        *[!A-Za-z0-9._~-]*) fail "POSTGRES_PASSWORD may only use A-Z a-z 0-9 . _ ~ - (it is part of the gateways' URL)" ;;
    esac
    staging="$PGDATA.init"
    rm -rf "$staging"
    echo "wasmtask-postgres: creating the cluster, role '$POSTGRES_USER' and database '$POSTGRES_DB'" >&2
    initdb --pgdata="$staging" --username=postgres --auth-local=peer --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    printf '# wasmtask: the gateways (deploy/compose.yaml)\nhost %s %s all scram-sha-256\n' \
        "$POSTGRES_DB" "$POSTGRES_USER" >> "$staging/pg_hba.conf"
    pg_ctl --pgdata="$staging" --options="-c listen_addresses=''" --wait --silent start
    # \getenv: the password goes from the environment to the server, on no command line.
    psql -X -q -v ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
        -v user="$POSTGRES_USER" -v db="$POSTGRES_DB" <<'SQL'
\getenv password POSTGRES_PASSWORD
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
    pg_ctl --pgdata="$staging" --mode=fast --wait --silent stop
    mv "$staging" "$PGDATA"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*'
