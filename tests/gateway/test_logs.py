"""Live log streaming: a real uvicorn server on loopback, real SSE readers, publishers on threads."""

from __future__ import annotations

import asyncio
import io
import queue
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.logs import LogHub, LogStreamLimits, format_record, follow_logs, logs_endpoint
from host_api.log import CallLog

TOKEN = "secret-token"


def make_app(hub: LogHub, heartbeat_seconds: float = 15.0) -> Starlette:
    stream_logs = logs_endpoint(hub, heartbeat_seconds=heartbeat_seconds)

    async def authenticated(request: Request) -> Response:  # what the gateway does before our endpoint
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": {"code": "unauthorized", "message": "bad token"}}, status_code=401)
        return await stream_logs(request)

    return Starlette(routes=[Route("/api/logs/{tenant}", authenticated)])


@dataclass
class Running:
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop_accepting(self) -> None:
        """Ask uvicorn to exit and wait until its listening socket refuses connections."""
        self.server.should_exit = True

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return True
            return False

        wait_for(refused)


@contextmanager
def serve(app: Starlette, port: int = 0) -> Iterator[Running]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Running(server, server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def hub() -> LogHub:
    return LogHub()


@pytest.fixture
def server(hub: LogHub) -> Iterator[str]:
    with serve(make_app(hub, heartbeat_seconds=0.2)) as running:
        yield running.url


class SseReader:
    """A real HTTP client reading one SSE stream on its own thread; each record is stamped on arrival."""

    def __init__(self, url: str, **headers: str) -> None:
        self.received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.comments: list[str] = []
        self.ids: list[str] = []
        self.subscribed = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._headers = {"authorization": f"Bearer {TOKEN}", **headers}
        self._url = url
        self._socket: socket.socket
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.subscribed.wait(5), "no SSE preamble"

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.subscribed.set()
                    elif line.startswith("id: "):
                        self.ids.append(line[4:])
                    elif line.startswith("data: "):
                        self.received.put((time.time(), orjson.loads(line[6:])))
        except (httpx.TransportError, RuntimeError):
            pass  # closed by the test

    def until(self, predicate: Any, timeout: float = 5.0) -> list[tuple[float, dict[str, Any]]]:
        """Arrivals up to and including the first record matching ``predicate``."""
        arrivals: list[tuple[float, dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while True:
            arrivals.append(self.received.get(timeout=max(0.0, deadline - time.monotonic())))
            if predicate(arrivals[-1][1]):
                return arrivals

    def close(self) -> None:
        """Hang up, as a client going away does (closing alone would not wake the reading thread)."""
        self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        assert not self._thread.is_alive()
        self._client.close()


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def call_log(hub: LogHub, tenant: str, request_id: str) -> CallLog:
    """The per-call log a worker thread writes into, publishing live like the gateway wires it."""
    fields = {"tenant": tenant, "function": "hello", "version": 3}
    return CallLog(max_bytes=64 * 1024, max_lines=256, request_id=request_id, fields=fields, sink=hub.sink(tenant))


def test_each_record_arrives_within_100ms_and_only_on_its_tenants_stream(hub: LogHub, server: str) -> None:
    reader_a = SseReader(f"{server}/api/logs/tenant-a")
    reader_b = SseReader(f"{server}/api/logs/tenant-b")

    def worker(tenant: str, count: int) -> None:
        log = call_log(hub, tenant, request_id=f"req-{tenant}")
        log.event("info", "invocation start", event="start")
        for index in range(count):
            log.write("info", f"{tenant} line {index}", index=index)
            time.sleep(0.002)
        log.event("info", "invocation end", event="end", fuel_used=1234, duration_ms=5.0)

    workers = [threading.Thread(target=worker, args=(tenant, 100)) for tenant in ("tenant-a", "tenant-b")]
    for thread in workers:
        thread.start()
    arrivals_a = reader_a.until(lambda record: record.get("event") == "end")
    arrivals_b = reader_b.until(lambda record: record.get("event") == "end")
    for thread in workers:
        thread.join()

    for tenant, arrivals in (("tenant-a", arrivals_a), ("tenant-b", arrivals_b)):
        records = [record for _, record in arrivals]
        assert {record["tenant"] for record in records} == {tenant}
        assert [record["index"] for record in records if "index" in record] == list(range(100))
        assert records[0]["msg"] == "invocation start" and records[-1]["fuel_used"] == 1234
        assert records[1]["function"] == "hello" and records[1]["version"] == 3 and records[1]["request_id"] == f"req-{tenant}"
        latencies = [received - record["time"] for received, record in arrivals]
        assert max(latencies) < 0.1, f"slowest delivery {max(latencies) * 1000:.1f} ms"
    reader_a.close()
    reader_b.close()


def test_a_stalled_reader_does_not_slow_publishers_and_learns_how_many_were_dropped(hub: LogHub, server: str) -> None:
    total = 100_000
    message = "x" * 1000  # 100 MB in all: far more than the socket buffers between us and the server
    client = httpx.Client(timeout=httpx.Timeout(5.0, read=10.0))
    with client.stream("GET", f"{server}/api/logs/slow", headers={"authorization": f"Bearer {TOKEN}"}) as response:
        assert response.status_code == 200
        wait_for(lambda: hub.subscriber_count("slow") == 1)
        # The reader is connected and reads nothing while a worker thread publishes.
        elapsed: list[float] = []

        def publisher() -> None:
            started = time.perf_counter()
            for index in range(total):
                hub.publish("slow", {"time": time.time(), "level": "info", "tenant": "slow", "msg": message, "index": index})
            elapsed.append(time.perf_counter() - started)

        thread = threading.Thread(target=publisher)
        thread.start()
        thread.join(10)
        assert elapsed, "the publisher is stuck behind a stalled reader"
        assert elapsed[0] < 3.0, f"{total} publishes took {elapsed[0]:.2f} s"

        indexes: list[int] = []
        notices: list[tuple[int, int]] = []  # (index received before the notice, dropped)
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            record = orjson.loads(line[6:])
            if "dropped" in record:
                assert record["level"] == "warn" and record["msg"] == f"{record['dropped']} log records dropped (slow reader)"
                notices.append((indexes[-1] if indexes else -1, record["dropped"]))
            else:
                indexes.append(record["index"])
            if indexes and indexes[-1] == total - 1:
                break
    client.close()

    assert notices, "the stalled reader was not told about dropped records"
    assert len(indexes) + sum(dropped for _, dropped in notices) == total
    assert indexes == sorted(indexes)
    for before, dropped in notices:  # each notice sits exactly where its records are missing
        after = indexes[indexes.index(before) + 1] if before >= 0 else indexes[0]
        assert after - before - 1 == dropped
    wait_for(lambda: hub.subscriber_count() == 0)


def test_subscriptions_end_when_clients_disconnect(hub: LogHub, server: str) -> None:
    readers = [SseReader(f"{server}/api/logs/tenant-a") for _ in range(3)]
    wait_for(lambda: hub.subscriber_count("tenant-a") == 3)
    for reader in readers:
        reader.close()
    wait_for(lambda: hub.subscriber_count() == 0)


def test_a_stalled_reader_that_disconnects_is_unsubscribed(hub: LogHub, server: str) -> None:
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small TCP window
    raw.connect(("127.0.0.1", int(server.rsplit(":", 1)[1])))
    raw.sendall(f"GET /api/logs/slow HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {TOKEN}\r\n\r\n".encode())
    wait_for(lambda: hub.subscriber_count("slow") == 1)
    for index in range(20_000):  # enough to block the server's writes on a reader that never reads
        hub.publish("slow", {"level": "info", "msg": "y" * 500, "index": index})
    time.sleep(0.2)
    raw.close()
    wait_for(lambda: hub.subscriber_count() == 0)


def test_a_new_stream_replays_recent_records_and_resumes_after_last_event_id(hub: LogHub, server: str) -> None:
    for index in range(3):
        hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": f"before {index}"})
    reader = SseReader(f"{server}/api/logs/tenant-c")
    assert [r["msg"] for _, r in reader.until(lambda r: r["msg"] == "before 2")] == ["before 0", "before 1", "before 2"]
    reader.close()

    resumed = SseReader(f"{server}/api/logs/tenant-c", **{"last-event-id": reader.ids[1]})
    hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": "live"})
    assert [r["msg"] for _, r in resumed.until(lambda r: r["msg"] == "live")] == ["before 2", "live"]
    resumed.close()

    live_only = SseReader(f"{server}/api/logs/tenant-c?replay=0")
    hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": "later"})
    assert [r["msg"] for _, r in live_only.until(lambda r: r["msg"] == "later")] == ["later"]
    live_only.close()


def test_an_idle_stream_gets_heartbeat_comments(hub: LogHub, server: str) -> None:
    reader = SseReader(f"{server}/api/logs/quiet")
    wait_for(lambda: ": ping" in reader.comments, timeout=2)
    reader.close()


def test_too_many_streams_for_one_tenant_is_429() -> None:
    hub = LogHub(LogStreamLimits(subscribers_per_tenant=1))
    with serve(make_app(hub)) as running:
        first = SseReader(f"{running.url}/api/logs/tenant-a")
        response = httpx.get(f"{running.url}/api/logs/tenant-a", headers={"authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "too_many_log_streams"
        first.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_dash_n_prints_events(hub: LogHub, server: str) -> None:
    curl = subprocess.Popen(
        ["curl", "-sN", "--max-time", "3", "-H", f"authorization: Bearer {TOKEN}", f"{server}/api/logs/tenant-a"],
        stdout=subprocess.PIPE,
    )
    wait_for(lambda: hub.subscriber_count("tenant-a") == 1)
    hub.publish("tenant-a", {"level": "info", "tenant": "tenant-a", "msg": "hello curl"})
    assert curl.stdout is not None
    lines = iter(curl.stdout.readline, b"")
    data = next(line for line in lines if line.startswith(b"data: "))
    assert orjson.loads(data[6:])["msg"] == "hello curl"
    curl.kill()
    curl.wait()


def test_readers_are_woken_once_per_batch_not_once_per_record() -> None:
    async def scenario() -> tuple[int, int, int]:
        hub = LogHub(LogStreamLimits(subscriber_records=100_000, subscriber_bytes=1 << 30))
        async with hub.subscribe("tenant-a") as subscription:
            wakes = 0
            wake = subscription._wake

            def counting_wake() -> None:
                nonlocal wakes
                wakes += 1
                wake()

            subscription._wake = counting_wake  # type: ignore[method-assign]
            thread = threading.Thread(target=lambda: [hub.publish("tenant-a", {"msg": str(i)}) for i in range(20_000)])
            thread.start()
            received = batches = 0
            while received < 20_000:
                batch = await subscription.next_batch(timeout=5)
                assert batch
                received += len(batch)
                batches += 1
            thread.join()
        return received, batches, wakes

    received, batches, wakes = asyncio.run(scenario())
    assert received == 20_000
    assert wakes <= batches


def test_replay_memory_is_bounded_across_tenants() -> None:
    hub = LogHub(LogStreamLimits(replay_records=10, replay_total_bytes=10_000))
    for tenant in range(100):
        for index in range(20):
            hub.publish(f"t{tenant}", {"msg": "z" * 100, "index": index})
    assert hub._replay_bytes <= 10_000
    assert all(len(stored.events) <= 10 for stored in hub._replays.values())
    assert "t99" in hub._replays and "t0" not in hub._replays


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


def test_follow_logs_gives_up_on_a_refused_token(hub: LogHub, server: str) -> None:
    err = io.StringIO()
    assert follow_logs(server, "tenant-a", "wrong", io.StringIO(), err=err) == 1
    assert "HTTP 401: bad token" in err.getvalue()


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


def test_forget_drops_the_replay_of_a_deleted_tenant() -> None:
    import asyncio

    async def scenario() -> list[object]:
        hub = LogHub()
        hub.publish("gone", {"msg": "old line"})
        hub.forget("gone")
        subscription = hub.subscribe("gone")
        try:
            return await subscription.next_batch(timeout=0.05)
        finally:
            subscription.close()

    assert asyncio.run(scenario()) == []
