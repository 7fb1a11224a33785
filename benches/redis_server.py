"""The bench's own redis-server (Debian's): a unix socket in the work dir, no persistence, stopped by its PID.

The gateways under test get it through ``WASMTASK_REDIS_URL`` (as several hosts
would), so the harness knows its PID: its CPU is counted with the gateway's, and
it is stopped by the harness even if a gateway is killed.
Also reads the server's per-command counters (``INFO commandstats``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

READY_TIMEOUT_SECONDS = 10.0
STOP_GRACE_SECONDS = 5.0


class RedisUnavailable(RuntimeError):
    """redis-server is not installed or did not start; the message says why."""


@dataclass(frozen=True)
class CommandStat:
    calls: int
    usec: int  # server time spent in the command, all calls together


class RedisUnderTest:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self._stats_client: redis.Redis | None = None  # one connection: a new one per read would show in the stats

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> RedisUnderTest:
        executable = shutil.which("redis-server") or "/usr/sbin/redis-server"
        if not os.access(executable, os.X_OK):
            raise RedisUnavailable("redis-server not found (apt-get install -y redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [executable, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.directory), "--save", "", "--appendonly", "no", "--logfile", str(log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                raise RedisUnavailable(f"redis-server did not start on {self.socket}: {tail.strip()}")
            time.sleep(0.01)
        return self

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

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
        """SIGTERM to its process group (its PID), SIGKILL if it lingers."""
        if self._stats_client is not None:
            self._stats_client.close()
            self._stats_client = None
        process, self.process = self.process, None
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                continue
        process.wait(STOP_GRACE_SECONDS)

    def __enter__(self) -> RedisUnderTest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
