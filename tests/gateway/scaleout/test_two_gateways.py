"""Two real gateway processes sharing one registry (SQLite) and one Redis: one service, not two."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.coordination.redis_server import PrivateRedis
from gateway.identity.keys import encode_private
from tests.gateway.support import Api, ProcessServer

HELLO = "module.exports = function (cb) { cb(null, 'v1'); };"
HELLO_V2 = "module.exports = function (cb) { cb(null, 'v2'); };"
TALK = "module.exports = function (ctx, cb) { console.log('hello from ' + ctx.query.who); cb(null, 1); };"


@pytest.fixture
def pair(tmp_path: Path, redis_server: PrivateRedis) -> Iterator[tuple[Api, Api]]:
    data_dir = tmp_path / "data"
    env = {"WASMTASK_REDIS_URL": redis_server.url, "WASMTASK_WORKERS": "1"}
    first = ProcessServer(data_dir, env).start()
    second = ProcessServer(data_dir, env).start()
    try:
        yield Api(first.url), Api(second.url)
    finally:
        first.stop()
        second.stop()


def test_a_deploy_through_one_is_served_by_the_other_within_a_second(pair: tuple[Api, Api]) -> None:
    one, other = pair
    tenant = one.create_tenant()
    token = one.token(tenant)
    one.deployed(tenant, "f", HELLO, token)
    assert other.http.get(f"/run/{tenant}/f").json() == "v1"  # cached on the other now

    one.deployed(tenant, "f", HELLO_V2, token)
    answered = time.monotonic()
    seen = []
    while time.monotonic() - answered < 1.0:
        seen.append(other.http.get(f"/run/{tenant}/f").json())
        if seen[-1] == "v2":
            break
        time.sleep(0.02)
    assert seen[-1] == "v2", seen
    assert "v1" not in seen[seen.index("v2"):]  # never back to the old version
    for _ in range(20):
        assert other.http.get(f"/run/{tenant}/f").json() == "v2"


def test_a_deleted_function_is_gone_on_the_other_too(pair: tuple[Api, Api]) -> None:
    one, other = pair
    tenant = one.create_tenant()
    token = one.token(tenant)
    one.deployed(tenant, "f", HELLO, token)
    assert other.http.get(f"/run/{tenant}/f").status_code == 200
    assert one.http.delete(f"/api/functions/{tenant}/f", headers=token).status_code == 200
    time.sleep(1.0)
    assert other.http.get(f"/run/{tenant}/f").status_code == 404


def test_the_rate_limit_is_exact_across_gateways(pair: tuple[Api, Api]) -> None:
    one, other = pair
    tenant = one.create_tenant(rate_limit={"per_second": 0.01, "burst": 10})
    one.deployed(tenant, "f", HELLO, one.token(tenant))
    statuses = [(one if n % 2 else other).http.get(f"/run/{tenant}/f").status_code for n in range(30)]
    assert statuses.count(200) == 10
    assert set(statuses) == {200, 429}


def test_logs_of_a_call_on_one_are_streamed_by_the_other(pair: tuple[Api, Api]) -> None:
    one, other = pair
    tenant = one.create_tenant()
    token = one.token(tenant)
    one.deployed(tenant, "talk", TALK, token)
    lines: list[str] = []

    def read() -> None:
        with other.http.stream("GET", f"/api/logs/{tenant}?replay=0", headers=token, timeout=20) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    record = orjson.loads(line[len("data: "):])
                    lines.append(record["msg"])
                    if record["msg"] == "hello from one":
                        return

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)  # the reader is subscribed
    assert one.http.get(f"/run/{tenant}/talk", params={"who": "one"}).status_code == 200
    reader.join(timeout=15)
    assert "hello from one" in lines


def test_two_hosts_share_postgresql_and_redis(tmp_path: Path, redis_server: PrivateRedis, postgres) -> None:
    """Two hosts: separate data dirs, one PostgreSQL, one Redis, the same keys from the environment."""
    signing_key = encode_private(Ed25519PrivateKey.generate())  # tokens one host's control plane signs, both verify
    keys = {"WASMTASK_SIGNING_KEY": signing_key, "WASMTASK_SECRET_KEY": "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDE=",
            "WASMTASK_DATABASE_URL": postgres.create_database("hosts"), "WASMTASK_REDIS_URL": redis_server.url}
    first = ProcessServer(tmp_path / "host-a", keys).start()
    second = ProcessServer(tmp_path / "host-b", keys).start()
    try:
        one, other = Api(first.url), Api(second.url)
        tenant = one.create_tenant(rate_limit={"per_second": 0.01, "burst": 6})
        token = one.token(tenant)
        one.deployed(tenant, "f", HELLO, token, secrets={"KEY": "s3cret-value"})
        assert other.http.get(f"/api/functions/{tenant}/f", headers=token).json()["version"] == "v1"
        statuses = [(one if n % 2 else other).http.get(f"/run/{tenant}/f").status_code for n in range(12)]
        assert statuses.count(200) == 6  # one edge bucket for both hosts (deploys take from the api one)
    finally:
        first.stop()
        second.stop()
