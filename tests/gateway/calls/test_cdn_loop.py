"""No call chain loops through the gateway: CDN-Loop counts the wasmtask functions a request passed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.calls import cdn_loop
from gateway.config import Settings, TenantDefaults
from gateway.errors import LoopDetected
from tests.gateway.support import ADMIN_KEY, Api, ThreadServer, error_code


@pytest.fixture(scope="module")
def deep_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A gateway with isolate slots for a whole chain (each level waits on the next while holding one)."""
    slots = cdn_loop.MAX_CALL_DEPTH + 2
    data_dir: Path = tmp_path_factory.mktemp("call-depth")
    server = ThreadServer(Settings(data_dir=data_dir, admin_key=ADMIN_KEY, max_isolates=slots,
                                   tenant=TenantDefaults(concurrency=slots - 1))).start()
    yield Api(server.url)
    server.stop()


def test_depth_counts_wasmtask_entries_in_every_spelling() -> None:
    assert cdn_loop.depth("") == 0
    assert cdn_loop.depth("wasmtask") == 1
    assert cdn_loop.depth("cdn-a, WasmTask ; v=1,wasmtask, other") == 2


def test_check_appends_one_entry_and_refuses_past_the_maximum() -> None:
    assert cdn_loop.check({}) == "wasmtask"
    assert cdn_loop.check({"cdn-loop": "other-cdn"}) == "other-cdn, wasmtask"
    too_deep = ", ".join(["wasmtask"] * cdn_loop.MAX_CALL_DEPTH)
    with pytest.raises(LoopDetected):
        cdn_loop.check({"cdn-loop": too_deep})


SELF_CALLER = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const depth = Number(url.searchParams.get("depth") || "0");
    const answer = await fetch(`${env.SELF}?depth=${depth + 1}`, { headers: { "cdn-loop": "" } });
    return new Response(`${depth}:${answer.status}:` + await answer.text(), { status: 200 });
  },
};
"""


def test_a_function_that_calls_itself_through_the_gateway_stops(deep_api: Api) -> None:
    api = deep_api
    tenant = api.create_tenant()
    token = api.token(tenant)
    self_url = f"{api.url}/run/{tenant}/loop"
    api.deployed(tenant, "loop", SELF_CALLER, token, allowed_hosts=[api.url], env={"SELF": self_url},
                 limits={"wall_clock_ms": 10_000})
    response = api.http.get(f"/run/{tenant}/loop", timeout=60)
    assert response.status_code == 200
    # each level answered 200 with the next level's text, until the gateway refused the sixth
    text = response.text
    assert text.count(":200:") == cdn_loop.MAX_CALL_DEPTH - 1
    assert "loop_detected" in text


def test_an_incoming_request_past_the_depth_is_refused_before_the_guest_runs(api: Api, tenant: str,
                                                                             token: dict) -> None:
    api.deployed(tenant, "plain", "module.exports = function (cb) { cb(null, 1); };", token)
    too_deep = ", ".join(["wasmtask"] * cdn_loop.MAX_CALL_DEPTH)
    response = api.http.get(f"/run/{tenant}/plain", headers={"cdn-loop": too_deep})
    assert (response.status_code, error_code(response)) == (508, "loop_detected")
    assert api.http.get(f"/run/{tenant}/plain", headers={"cdn-loop": "wasmtask"}).json() == 1
