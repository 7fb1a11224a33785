"""``wasmtask storage get|put`` and ``wasmtask kv get|put|list|delete`` against a real gateway."""

from __future__ import annotations

import pytest

from tests.gateway.cli.support import Cli
from tests.gateway.support import Api

COUNTER = """module.exports = function (ctx, cb) {
  ctx.storage.get(function (error, data) {
    data = data || { count: 0 };
    data.count += 1;
    ctx.storage.set(data, function (error) { cb(error, data); });
  });
};"""


@pytest.fixture
def counter(api: Api, cli: Cli, token: dict[str, str]) -> str:
    api.deployed(cli.tenant, "counter", COUNTER, token)
    return f"/run/{cli.tenant}/counter"


def test_storage_get_and_put(api: Api, cli: Cli, counter: str) -> None:
    api.http.get(counter)

    got = cli("storage", "get", "counter", "--json")
    put = cli("storage", "put", "counter", "-d", '{"count": 9}', "--version", "1")

    assert got.status == 0 and got.json() == {"data": {"count": 1}, "version": 1}
    assert put.status == 0 and "version 2" in put.out
    assert api.http.get(counter).json() == {"count": 10}


def test_storage_put_on_a_stale_version_exits_1_with_the_conflict(cli: Cli, counter: str) -> None:
    cli("storage", "put", "counter", "-d", "{}")
    cli("storage", "put", "counter", "-d", "{}")

    stale = cli("storage", "put", "counter", "-d", "{}", "--version", "1")

    assert stale.status == 1 and "conflict" in stale.err


def test_storage_put_reads_stdin_and_refuses_what_is_not_json(cli: Cli, counter: str) -> None:
    assert cli("storage", "put", "counter", stdin='{"from": "stdin"}').status == 0
    assert cli("storage", "get", "counter", "--json").json()["data"] == {"from": "stdin"}
    assert cli("storage", "put", "counter", "-d", "{nope").status == 2


def test_kv_put_get_list_delete(cli: Cli, counter: str) -> None:
    assert cli("kv", "put", "greeting", "-f", "counter", "-d", "hello").status == 0
    assert cli("kv", "put", "session", "-f", "counter", "-d", "s", "--ttl", "120").status == 0

    assert cli("kv", "get", "greeting", "-f", "counter").out == "hello"
    listed = cli("kv", "list", "-f", "counter", "--json").json()
    assert [k["name"] for k in listed["keys"]] == ["greeting", "session"] and "expiration" in listed["keys"][1]
    assert cli("kv", "delete", "greeting", "-f", "counter").status == 0
    missing = cli("kv", "get", "greeting", "-f", "counter")
    assert missing.status == 1 and "not_found" in missing.err
