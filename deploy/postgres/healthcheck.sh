#!/bin/sh
# Healthy when PostgreSQL accepts connections over TCP (during the first
# start's set-up it listens on its socket only: not healthy yet).
exec pg_isready -q -h 127.0.0.1 -U "${POSTGRES_USER:-wasmtask}" -d "${POSTGRES_DB:-wasmtask}"
