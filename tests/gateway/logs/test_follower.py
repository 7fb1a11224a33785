"""``wasmtask logs``: its follower (gateway/cli/tail.py) against a real uvicorn, and the one-line format it prints."""

from __future__ import annotations

import io
import threading

from gateway.cli.client import Connection
from gateway.cli.tail import Filters, Follower, follow
from gateway.logs import LogHub, format_record
from tests.gateway.logs.support import TOKEN, call_log, make_app, serve, wait_for


def follow_logs(url: str, tenant: str, token: str, out: io.StringIO, *, err: io.StringIO,
                stop: threading.Event | None = None, min_backoff: float = 0.5) -> int:
    """``wasmtask logs --retry`` of ``tenant``, printing lines to ``out``."""
    return follow(Connection(url, token, None), tenant, Follower(Filters(), out, as_json=False, color=False),
                  replay=True, retry=True, err=err, stop=stop, min_backoff=min_backoff)


def test_follow_logs_prints_records_and_resumes_after_a_server_restart(hub: LogHub) -> None:
    app = make_app(hub)
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    with serve(app) as running:
        follower = threading.Thread(
            target=follow_logs, args=(running.url, "tenant-a", TOKEN, out), kwargs={"err": err, "stop": stop, "min_backoff": 0.1}
        )
        follower.start()
        wait_for(lambda: hub.subscriber_count("tenant-a") == 1)
        log = call_log(hub, "tenant-a", request_id="req-1")
        log.write("info", "first")
        log.write("warn", "second")
        wait_for(lambda: "second" in out.getvalue())
        running.stop_accepting()
        hub.close_subscriptions()  # the stream ends; reconnecting is refused until the restart
    log.write("error", "while down")  # kept in the replay buffer; after "second", so it is resumed
    with serve(app, port=running.port):
        wait_for(lambda: hub.subscriber_count("tenant-a") == 1)
        log.write("info", "after restart")
        wait_for(lambda: "after restart" in out.getvalue())
        stop.set()
        log.write("info", "bye")  # wakes the follower so it sees stop
        follower.join(5)
    assert not follower.is_alive()
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines[:4]] == ["first", "second", "while down", "after restart"]
    assert " WARN  [hello@3 req-1] second" in lines[1]
    assert "reconnecting" in err.getvalue()


def test_follow_logs_gives_up_on_a_refused_token(log_server: str) -> None:
    err = io.StringIO()
    assert follow_logs(log_server, "tenant-a", "wrong", io.StringIO(), err=err) == 1
    assert "unauthorized: bad token (HTTP 401)" in err.getvalue()


def test_format_record_is_one_readable_line() -> None:
    record = {
        "time": 1700000000.25,
        "level": "info",
        "tenant": "acme",
        "function": "hello",
        "version": 3,
        "request_id": "req-9",
        "msg": "invocation end",
        "event": "end",
        "duration_ms": 4.5,
        "code": "cpu_limit",
    }
    assert format_record(record) == (
        "2023-11-14T22:13:20.250Z INFO  [hello@3 req-9] invocation end event=end duration_ms=4.5 code=cpu_limit"
    )


def test_format_record_defuses_terminal_escapes_and_forged_lines() -> None:
    line = format_record({"level": "info", "msg": "\x1b[2Jwiped\n2023-01-01 INFO  fake\r", "note": "a b"})
    assert "\x1b" not in line and "\r" not in line
    assert line == '- INFO  \\x1b[2Jwiped\n    2023-01-01 INFO  fake\\x0d note="a b"'
    assert "\x1b[31m" in format_record({"level": "error", "msg": "boom"}, color=True)
