"""A private redis-server for one host: on a unix socket in the data dir, started and stopped by us.

``wasmtask serve --workers N`` (N > 1) without ``WASMTASK_REDIS_URL`` starts
one, so several workers on one machine share rate limits and logs with nothing
else to install but Debian's ``redis-server``. Not for several hosts: give them
one Redis with ``WASMTASK_REDIS_URL``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Self

READY_TIMEOUT_SECONDS = 10.0


class RedisServerError(RuntimeError):
    """redis-server is not installed, or did not start."""


class PrivateRedis:
    """``redis-server`` on ``directory/redis.sock``, no persistence; ``url`` is how to reach it."""

    def __init__(self, directory: Path, executable: str | None = None) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.executable = executable or shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> Self:
        if not os.access(self.executable, os.X_OK):
            raise RedisServerError("redis-server is not installed (apt-get install redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [self.executable, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.directory), "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.stop()
                raise RedisServerError(f"redis-server did not start: {error.strip()[:500]}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to its process group (it is in its own session)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def pause(self) -> None:
        """SIGSTOP (tests of a Redis that stops answering)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
