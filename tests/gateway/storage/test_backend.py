"""RegistryStorage on SQLite and PostgreSQL, through FunctionStorage (the guest's door): documents,
optimistic concurrency, the 500 KB cap, KV values, TTL, listing, quotas, isolation."""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest

from gateway.registry import Registry
from gateway.storage import KVQuotas, RegistryStorage
from host_api.errors import (
    StorageConflict,
    StorageInvalid,
    StorageQuotaExceeded,
    StorageTooLarge,
    StorageUnavailable,
)
from host_api.storage import FunctionStorage, StorageScope
from tests.gateway.registry.support import Backend, spec


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def free(_fuel: int) -> None:
    pass


@pytest.fixture
def registry(backend: Backend) -> Registry:
    registry = backend.with_tenant("acme")
    registry.create_tenant("other", max_limits=registry.get_tenant("acme").max_limits, rate_per_second=1.0,
                           rate_burst=1, concurrency=1)
    for tenant, name in (("acme", "f"), ("acme", "g"), ("other", "f")):
        registry.deploy(tenant, name, spec("module.exports = (cb) => cb(null, 1)"))
    return registry


Call = Callable[..., dict[str, Any]]


def caller(registry: Registry, tenant: str = "acme", function: str = "f", *, clock: Clock | None = None,
           quotas: KVQuotas | None = None) -> Call:
    storage = FunctionStorage(RegistryStorage(registry.database, quotas), StorageScope(tenant, function),
                              clock=clock or Clock())

    def call(op: str, **fields: object) -> dict[str, Any]:
        answer = orjson.loads(storage.perform(orjson.dumps({"op": op, **fields}), free))
        assert isinstance(answer, dict) and answer["ok"] is True
        return answer

    return call


def test_a_new_function_has_no_document(registry: Registry) -> None:
    assert caller(registry)("storage.get") == {"ok": True, "data": None, "version": 0}


def test_a_document_written_is_read_back_with_its_version(registry: Registry) -> None:
    call = caller(registry)

    assert call("storage.set", data={"count": 1, "names": ["ä", "b"]}, version=0) == {"ok": True, "version": 1}
    assert call("storage.get") == {"ok": True, "version": 1, "data": {"count": 1, "names": ["ä", "b"]}}


def test_a_set_based_on_a_stale_read_is_a_conflict(registry: Registry) -> None:
    first, second = caller(registry), caller(registry)
    first("storage.set", data={"n": 1})
    read = second("storage.get")["version"]
    first("storage.set", data={"n": 2}, version=1)

    with pytest.raises(StorageConflict):
        second("storage.set", data={"n": 3}, version=read)
    assert first("storage.get")["data"] == {"n": 2}


def test_creating_a_document_someone_else_created_is_a_conflict(registry: Registry) -> None:
    call = caller(registry)
    call("storage.set", data=1, version=0)

    with pytest.raises(StorageConflict):
        call("storage.set", data=2, version=0)


def test_force_writes_over_a_newer_version(registry: Registry) -> None:
    call = caller(registry)
    call("storage.set", data={"n": 1})
    call("storage.set", data={"n": 2})

    assert call("storage.set", data={"n": 3}, version=1, force=True) == {"ok": True, "version": 3}
    assert call("storage.get")["data"] == {"n": 3}


def test_a_document_over_500_kb_is_refused_and_the_old_one_kept(registry: Registry) -> None:
    call = caller(registry)
    call("storage.set", data="small")

    with pytest.raises(StorageTooLarge):
        call("storage.set", data="x" * (500 * 1024), force=True)
    assert call("storage.set", data="x" * (500 * 1024 - 2), force=True)["version"] == 2  # "x...x" is 500 KB
    assert len(orjson.dumps(call("storage.get")["data"])) == 500 * 1024


def test_documents_are_per_function_and_per_tenant(registry: Registry) -> None:
    caller(registry, "acme", "f")("storage.set", data="acme f")
    caller(registry, "acme", "g")("storage.set", data="acme g")

    assert caller(registry, "acme", "f")("storage.get")["data"] == "acme f"
    assert caller(registry, "acme", "g")("storage.get")["data"] == "acme g"
    assert caller(registry, "other", "f")("storage.get") == {"ok": True, "data": None, "version": 0}


def test_deleting_a_function_deletes_its_storage(registry: Registry) -> None:
    call = caller(registry, "acme", "g")
    call("storage.set", data="gone soon")
    call("kv.put", key="k", value="v")
    registry.delete_function("acme", "g")
    registry.deploy("acme", "g", spec("module.exports = (cb) => cb(null, 2)"))

    assert call("storage.get")["version"] == 0
    assert call("kv.get", key="k") == {"ok": True, "value": None}


def test_writing_the_storage_of_a_deleted_function_fails_cleanly(registry: Registry) -> None:
    call = caller(registry, "acme", "g")
    registry.delete_function("acme", "g")

    with pytest.raises(StorageUnavailable):
        call("storage.set", data=1)
    with pytest.raises(StorageUnavailable):
        call("kv.put", key="k", value="v")


def test_kv_keeps_strings_and_bytes_apart(registry: Registry) -> None:
    call = caller(registry)
    call("kv.put", key="greeting", value="héllo")
    call("kv.put", key="blob", value_base64=base64.b64encode(b"\x00\xff\xfe").decode())

    assert call("kv.get", key="greeting") == {"ok": True, "value": "héllo"}
    assert call("kv.get", key="blob") == {"ok": True, "value_base64": "AP/+"}
    assert call("kv.get", key="missing") == {"ok": True, "value": None}


def test_kv_put_overwrites_and_delete_removes(registry: Registry) -> None:
    call = caller(registry)
    call("kv.put", key="k", value="1")
    call("kv.put", key="k", value="2")
    assert call("kv.get", key="k")["value"] == "2"

    call("kv.delete", key="k")
    call("kv.delete", key="k")  # deleting what is not there is no error
    assert call("kv.get", key="k")["value"] is None


def test_kv_entries_expire_by_the_clock(registry: Registry) -> None:
    clock = Clock()
    call = caller(registry, clock=clock)
    call("kv.put", key="session", value="s", expiration_ttl=60)
    call("kv.put", key="forever", value="f")
    assert call("kv.list")["keys"] == [{"name": "forever"}, {"name": "session", "expiration": int(clock.now + 60)}]

    clock.now += 61
    assert call("kv.get", key="session")["value"] is None
    assert call("kv.list")["keys"] == [{"name": "forever"}]


def test_a_ttl_under_a_minute_is_refused(registry: Registry) -> None:
    with pytest.raises(StorageInvalid):
        caller(registry)("kv.put", key="k", value="v", expiration_ttl=5)


def test_kv_list_pages_through_a_prefix_in_byte_order(registry: Registry) -> None:
    call = caller(registry)
    for key in ("user:b", "user:a", "user:é", "user:c", "users", "other"):
        call("kv.put", key=key, value="1")

    first = call("kv.list", prefix="user:", limit=2)
    second = call("kv.list", prefix="user:", limit=2, cursor=first["cursor"])

    assert [k["name"] for k in first["keys"]] == ["user:a", "user:b"] and first["list_complete"] is False
    assert [k["name"] for k in second["keys"]] == ["user:c", "user:é"]
    assert second["list_complete"] is True and second["cursor"] == ""


def test_kv_is_per_function_and_per_tenant(registry: Registry) -> None:
    caller(registry, "acme", "f")("kv.put", key="k", value="acme f")

    assert caller(registry, "acme", "g")("kv.get", key="k")["value"] is None
    assert caller(registry, "other", "f")("kv.get", key="k")["value"] is None
    assert caller(registry, "other", "f")("kv.list")["keys"] == []


def test_the_key_quota_counts_every_function_of_the_tenant(registry: Registry) -> None:
    quotas = KVQuotas(max_keys=3, max_bytes=1 << 20)
    caller(registry, "acme", "f", quotas=quotas)("kv.put", key="a", value="1")
    caller(registry, "acme", "g", quotas=quotas)("kv.put", key="b", value="1")
    call = caller(registry, "acme", "f", quotas=quotas)
    call("kv.put", key="c", value="1")

    with pytest.raises(StorageQuotaExceeded):
        call("kv.put", key="d", value="1")
    call("kv.put", key="c", value="overwriting is not a new key")
    caller(registry, "other", "f", quotas=quotas)("kv.put", key="d", value="another tenant has its own quota")


def test_the_byte_quota_and_expired_entries_free_room(registry: Registry) -> None:
    clock = Clock()
    quotas = KVQuotas(max_keys=100, max_bytes=100)
    call = caller(registry, quotas=quotas, clock=clock)
    call("kv.put", key="a", value="x" * 59, expiration_ttl=60)  # 60 bytes with its key

    with pytest.raises(StorageQuotaExceeded) as refused:
        call("kv.put", key="b", value="x" * 59)
    assert refused.value.code == "storage_quota_exceeded"

    clock.now += 120
    call("kv.put", key="b", value="x" * 59)
    assert [k["name"] for k in call("kv.list")["keys"]] == ["b"]


def test_bad_requests_have_codes(registry: Registry) -> None:
    call = caller(registry)
    for request, error in (({"key": ""}, StorageInvalid), ({"key": "k" * 513}, StorageTooLarge),
                           ({"key": "k"}, StorageInvalid), ({"key": "k", "value_base64": "!!"}, StorageInvalid)):
        with pytest.raises(error):
            call("kv.put", **request)
    with pytest.raises(StorageTooLarge):
        call("kv.put", key="k", value="v" * (1024 * 1024 + 1))
    with pytest.raises(StorageInvalid):
        call("kv.list", cursor="not base64 at all!")
    with pytest.raises(StorageInvalid):
        call("drop.table")


def test_concurrent_read_modify_writes_lose_no_update(backend: Backend, registry: Registry) -> None:
    """Four writers, each on its own connection (its own pool for PostgreSQL), increment one counter
    50 times by read-then-set, retrying on conflict: every increment lands, none twice."""
    databases = [backend.database() for _ in range(4)]

    def writer(index: int) -> None:
        storage = FunctionStorage(RegistryStorage(databases[index]), StorageScope("acme", "f"))
        for _ in range(50):
            while True:
                read = orjson.loads(storage.perform(b'{"op":"storage.get"}', free))
                try:
                    storage.perform(orjson.dumps({"op": "storage.set", "data": (read["data"] or 0) + 1,
                                                  "version": read["version"]}), free)
                    break
                except StorageConflict:
                    continue

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(writer, range(4)))

    final = caller(registry)("storage.get")
    assert final["data"] == 200 and final["version"] == 200
