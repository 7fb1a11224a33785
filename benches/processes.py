"""Servers under test: start one in its own process group, wait until it answers, stop it by its PID.

Only 127.0.0.1 is ever used. A server is stopped by signalling the process
group whose id is the PID we started (so a Node server's children go too),
SIGTERM first, SIGKILL after a grace period.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 5.0


class ServerFailed(RuntimeError):
    """A server did not start or did not answer in time; the message ends with its log tail."""


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, never one this process was given before: the kernel may
    offer a just-closed port again, and two servers started together (a gateway and its control
    plane) must not both be told the same one."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Server:
    """One server process: ``argv`` must make it listen on ``HOST:port``; output goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path, *, ready_path: str = "/",
                 cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.ready_path = ready_path
        self.cwd = cwd
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_timeout: float = 60.0) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.cwd, env=self.env, start_new_session=True,
            )
        try:
            self.wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with status {self.process.returncode}:\n"
                                   f"{log_tail(self.log_path)}")
            connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                connection.request("GET", self.ready_path)
                status = connection.getresponse().status
                if status < 500:
                    return
                last_error = f"HTTP {status}"
            except OSError as error:
                last_error = str(error)
            finally:
                connection.close()
            time.sleep(0.1)
        raise ServerFailed(f"{self.name} did not answer on {self.url}{self.ready_path} within {timeout:.0f} s "
                           f"({last_error}):\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        """SIGTERM to the server's process group (its PID), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            self._signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        # Children (a Node server's spawned processes) may outlive their parent: kill what is left of the group.
        self._signal_group(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(STOP_GRACE_SECONDS)

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
