"""The SSE endpoint: a real uvicorn server on loopback, real SSE readers, publishers on threads."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time

import httpx
import orjson
import pytest

from gateway.logs import LogHub
from tests.gateway.logs.support import TOKEN, SseReader, call_log, wait_for
from tests.gateway.support import Api, ThreadServer


def test_each_record_arrives_within_100ms_and_only_on_its_tenants_stream(hub: LogHub, log_server: str) -> None:
    reader_a = SseReader(f"{log_server}/api/logs/tenant-a")
    reader_b = SseReader(f"{log_server}/api/logs/tenant-b")

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


def test_a_stalled_reader_does_not_slow_publishers_and_learns_how_many_were_dropped(hub: LogHub, log_server: str) -> None:
    total = 100_000
    message = "x" * 1000  # 100 MB in all: far more than the socket buffers between us and the server
    client = httpx.Client(timeout=httpx.Timeout(5.0, read=10.0))
    with client.stream("GET", f"{log_server}/api/logs/slow", headers={"authorization": f"Bearer {TOKEN}"}) as response:
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


def test_subscriptions_end_when_clients_disconnect(hub: LogHub, log_server: str) -> None:
    readers = [SseReader(f"{log_server}/api/logs/tenant-a") for _ in range(3)]
    wait_for(lambda: hub.subscriber_count("tenant-a") == 3)
    for reader in readers:
        reader.close()
    wait_for(lambda: hub.subscriber_count() == 0)


def test_a_stalled_reader_that_disconnects_is_unsubscribed(hub: LogHub, log_server: str) -> None:
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small TCP window
    raw.connect(("127.0.0.1", int(log_server.rsplit(":", 1)[1])))
    raw.sendall(f"GET /api/logs/slow HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {TOKEN}\r\n\r\n".encode())
    wait_for(lambda: hub.subscriber_count("slow") == 1)
    for index in range(20_000):  # enough to block the server's writes on a reader that never reads
        hub.publish("slow", {"level": "info", "msg": "y" * 500, "index": index})
    time.sleep(0.2)
    raw.close()
    wait_for(lambda: hub.subscriber_count() == 0)


def test_a_new_stream_replays_recent_records_and_resumes_after_last_event_id(hub: LogHub, log_server: str) -> None:
    for index in range(3):
        hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": f"before {index}"})
    reader = SseReader(f"{log_server}/api/logs/tenant-c")
    assert [r["msg"] for _, r in reader.until(lambda r: r["msg"] == "before 2")] == ["before 0", "before 1", "before 2"]
    reader.close()

    resumed = SseReader(f"{log_server}/api/logs/tenant-c", **{"last-event-id": reader.ids[1]})
    hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": "live"})
    assert [r["msg"] for _, r in resumed.until(lambda r: r["msg"] == "live")] == ["before 2", "live"]
    resumed.close()

    live_only = SseReader(f"{log_server}/api/logs/tenant-c?replay=0")
    hub.publish("tenant-c", {"level": "info", "tenant": "tenant-c", "msg": "later"})
    assert [r["msg"] for _, r in live_only.until(lambda r: r["msg"] == "later")] == ["later"]
    live_only.close()


def test_an_idle_stream_gets_heartbeat_comments(hub: LogHub, log_server: str) -> None:
    reader = SseReader(f"{log_server}/api/logs/quiet")
    wait_for(lambda: ": ping" in reader.comments, timeout=2)
    reader.close()



def test_too_many_streams_for_one_tenant_is_429_from_the_gateways_error_renderer(
    server: ThreadServer, api: Api, tenant: str, token: dict[str, str]
) -> None:
    hub: LogHub = server.app.state.gateway.logs
    limit = hub.limits.subscribers_per_tenant
    with httpx.Client(base_url=api.url, timeout=10, trust_env=False) as client, contextlib.ExitStack() as streams:
        for _ in range(limit):
            assert streams.enter_context(client.stream("GET", f"/api/logs/{tenant}", headers=token)).status_code == 200
        response = client.get(f"/api/logs/{tenant}", headers={**token, "x-request-id": "one-too-many"})
    wait_for(lambda: hub.subscriber_count(tenant) == 0)

    assert response.status_code == 429
    assert response.json() == {"error": {"code": "too_many_log_streams", "request_id": "one-too-many",
                                         "message": f"tenant {tenant!r} already has {limit} open log streams"}}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_dash_n_prints_events(hub: LogHub, log_server: str) -> None:
    curl = subprocess.Popen(
        ["curl", "-sN", "--max-time", "3", "-H", f"authorization: Bearer {TOKEN}", f"{log_server}/api/logs/tenant-a"],
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
