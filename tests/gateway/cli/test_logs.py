"""``wasmtask logs`` as a process: history or not, filters, NDJSON, and giving up on an unreachable gateway."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from tests.gateway.cli.support import Cli, process_env
from tests.gateway.support import Api

SPEAKS = """module.exports = function (ctx, cb) {
  console.log("said " + ctx.query.word);
  if (ctx.query.fail) { console.warn("failing " + ctx.query.word); throw new Error("failed " + ctx.query.word); }
  cb(null, ctx.query.word);
};"""


class Lines:
    """A running ``wasmtask logs``: its stdout lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 20.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.seen):
                return True
            try:
                self.seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                pass
        return False

    def drain(self, seconds: float = 0.5) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=0.05))
            except queue.Empty:
                pass
        return self.seen


@contextmanager
def following(cli: Cli, *argv: str) -> Iterator[Lines]:
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "logs", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=process_env(cli.env), cwd=cli.cwd)
    try:
        yield Lines(process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def call_until_seen(api: Api, lines: Lines, tenant: str, marker: str, **query: str) -> None:
    """Call until the follower shows ``marker`` (it may not have subscribed when the first call is made)."""
    for attempt in range(50):
        api.http.get(f"/run/{tenant}/f", params={"word": f"{marker}{attempt}", **query})
        if lines.wait_for(marker, seconds=0.5):
            return
    raise AssertionError(f"never saw {marker}: {lines.seen}")


def test_no_replay_shows_only_what_comes_next_and_since_shows_the_history(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", SPEAKS, token)
    api.http.get(f"/run/{cli.tenant}/f", params={"word": "earlier"})

    with following(cli, "--no-replay") as live:
        call_until_seen(api, live, cli.tenant, "later")
        assert not any("earlier" in line for line in live.drain())
    with following(cli, "--since", "10m") as history:
        assert history.wait_for("said earlier")


def test_filters_by_status_function_level_and_text(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", SPEAKS, token)
    api.deployed(cli.tenant, "other", SPEAKS, token)

    with following(cli, "--no-replay", "--status", "error") as failed, \
            following(cli, "--no-replay", "--level", "warn", "-f", "f") as warnings, \
            following(cli, "--no-replay", "--grep", "NEEDLE", "--json") as found:
        for follower in (failed, warnings):  # each has subscribed once it shows a probe
            call_until_seen(api, follower, cli.tenant, "probe", fail="1")
        call_until_seen(api, found, cli.tenant, "needle")
        api.http.get(f"/run/{cli.tenant}/other", params={"word": "elsewhere", "fail": "1"})
        api.http.get(f"/run/{cli.tenant}/f", params={"word": "fine"})
        api.http.get(f"/run/{cli.tenant}/f", params={"word": "broken", "fail": "1"})
        assert failed.wait_for("invocation failed: guest_error: failed broken")
        assert warnings.wait_for("failing broken")

        failed_lines = failed.drain()
        assert any("said broken" in line for line in failed_lines)  # a failed call comes with its lines
        assert not any("said fine" in line or "said needle" in line for line in failed_lines)
        warning_lines = warnings.drain()
        assert not any("said" in line for line in warning_lines)  # info is below warn
        assert not any("elsewhere" in line for line in warning_lines)  # another function
        records = [orjson.loads(line) for line in found.drain()]
        assert records and all("needle" in record["msg"] for record in records)


def test_an_unreachable_gateway_is_one_message_and_exit_3(cli: Cli) -> None:
    started = time.monotonic()

    ran = cli.process("logs", "-t", cli.tenant, "--url", "http://127.0.0.1:9")

    assert ran.status == 3 and time.monotonic() - started < 30
    assert "error: the log stream of" in ran.err and "--retry" in ran.err and "Traceback" not in ran.err


def test_a_refused_token_is_exit_1(cli: Cli) -> None:
    ran = cli.process("logs", "-t", cli.tenant, "--token", "bad.bad.bad")

    assert ran.status == 1 and "unauthorized" in ran.err
