"""The bench's own redis-server (Debian's): a unix socket in the work dir, no persistence, stopped by its PID.

The gateways under test get it through ``WASMTASK_REDIS_URL`` (as several hosts
would), so the harness knows its PID: its CPU is counted with the gateway's, and
it is stopped by the harness even if a gateway is killed.
Also reads the server's per-command counters (``INFO commandstats``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import redis

from gateway.coordination.redis_server import PrivateRedis, RedisServerError

RedisUnavailable = RedisServerError  # redis-server is not installed or did not start


@dataclass(frozen=True)
class CommandStat:
    calls: int
    usec: int  # server time spent in the command, all calls together


class RedisUnderTest(PrivateRedis):
    """The gateway's own private redis-server (gateway/coordination/redis_server.py), plus its PID and counters."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._stats_client: redis.Redis | None = None  # one connection: a new one per read would show in the stats

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)

    def command_stats(self) -> dict[str, CommandStat]:
        """Calls and server time per command since start (or the last ``CONFIG RESETSTAT``)."""
        if self._stats_client is None:
            self._stats_client = self.client()
        info = self._stats_client.info("commandstats")
        stats = {}
        for key, value in info.items():
            name = re.sub(r"^cmdstat_", "", key)
            stats[name] = CommandStat(int(value["calls"]), int(value["usec"]))
        return stats

    def stop(self) -> None:
        if self._stats_client is not None:
            self._stats_client.close()
            self._stats_client = None
        super().stop()

    def __enter__(self) -> RedisUnderTest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
