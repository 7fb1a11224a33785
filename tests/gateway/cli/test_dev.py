"""``wasmtask dev`` as a user runs it: serves the project, redeploys on save, keeps the last good version."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.gateway.cli.support import Cli, process_env
from tests.gateway.support import free_port

WORKER = """export default {
  async fetch(request, env) {
    console.log("serving " + new URL(request.url).pathname);
    return Response.json({ answer: 1, secret: env.TOKEN ?? null });
  },
};
"""


class Dev:
    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "dev", "--port", str(self.port)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=project,
                                        env=process_env(env))
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 60.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.output:
                if text in line:
                    self.output = self.output[self.output.index(line) + 1:]
                    return line
            try:
                self.output.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
        raise AssertionError(f"dev never printed {text!r}; it printed: {self.output}")

    def get(self, path: str = "/") -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, trust_env=False)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def test_dev_serves_redeploys_on_save_and_keeps_the_last_good_version(cli: Cli) -> None:
    cli("init", "app", "-T", "worker")
    project = cli.cwd / "app"
    (project / "worker.js").write_text(WORKER)
    (project / ".env").write_text("TOKEN=local-value\n")
    dev = Dev(project, {**cli.env, "WASMTASK_URL": "http://127.0.0.1:9"})  # needs no gateway of its own
    try:
        dev.wait_for("deployed app v1")
        dev.wait_for("serving at")
        assert dev.get("/items/7").json() == {"answer": 1, "secret": "local-value"}
        call = dev.wait_for("GET /items/7 200")
        assert "v1" in call
        assert f"serving /run/{cli.tenant}/app/items/7" in dev.wait_for("info")

        (project / "worker.js").write_text(WORKER.replace("answer: 1", "answer: 2"))
        dev.wait_for("deployed app v2")
        assert dev.get().json()["answer"] == 2

        (project / "worker.js").write_text(WORKER.replace("answer: 1,", "answer: 3"))  # a syntax error
        failed = dev.wait_for("deploy failed")
        assert "still serving v2" in failed
        assert "worker.js:4:" in dev.wait_for("SyntaxError")
        assert dev.get().json()["answer"] == 2

        (project / "worker.js").write_text(WORKER.replace("answer: 1", "answer: 4"))
        dev.wait_for("deployed app v3")
        assert dev.get().json()["answer"] == 4
    finally:
        status = dev.stop()
    assert status == 0
    dev.wait_for("stopped", seconds=5)


def test_dev_outside_a_project_says_how_to_start_one(cli: Cli) -> None:
    ran = cli.process("dev")

    assert ran.status == 2 and "wasmtask init" in ran.err
