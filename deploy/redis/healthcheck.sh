#!/bin/sh
# Healthy when Redis answers PING with the password (redis-cli exits 0 even on
# an error reply: look for PONG).
REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -qx PONG
