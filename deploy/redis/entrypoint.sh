#!/bin/sh
# Start redis-server for wasmtask (deploy/redis/Dockerfile): the configuration
# file plus `requirepass` on standard input, so the password is on no command
# line. exec: redis-server is PID 1 and gets `docker stop`'s SIGTERM (it then
# fsyncs the append-only file and exits).
set -eu

fail() {
    echo "wasmtask-redis: $*" >&2
    exit 2
}

password=${REDIS_PASSWORD:-}
[ "${#password}" -ge 16 ] \
    || fail "REDIS_PASSWORD needs 16 or more characters (WASMTASK_REDIS_PASSWORD in the env file: deploy/README.md)"
case $password in
    *[!A-Za-z0-9._~-]*) fail "REDIS_PASSWORD may only use A-Z a-z 0-9 . _ ~ - (it is part of the gateways' URL)" ;;
esac

exec redis-server /etc/redis/wasmtask.conf - <<CONFIG
requirepass $password
CONFIG
