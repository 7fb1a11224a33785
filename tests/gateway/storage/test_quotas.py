"""KV quotas from the settings, enforced on a real gateway for guests and owners alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer

FILLER = """export default { async fetch(request, env) {
  const key = new URL(request.url).searchParams.get("key");
  try { await env.KV.put(key, "value"); return new Response("stored"); }
  catch (e) { return Response.json({ code: e.code, message: e.message }, { status: 507 }); }
} };"""


def test_the_quota_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"WASMTASK_KV_MAX_KEYS": "7", "WASMTASK_KV_MAX_BYTES": "4096"})

    assert (settings.kv_max_keys, settings.kv_max_bytes) == (7, 4096)
    with pytest.raises(ValueError, match="WASMTASK_KV_MAX_KEYS"):
        Settings.from_env({"WASMTASK_KV_MAX_KEYS": "none"})


@pytest.fixture(scope="module")
def small_quota(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("kv-quota")
    server = ThreadServer(Settings(data_dir=data_dir, kv_max_keys=2, kv_max_bytes=1 << 20,
                                   **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    yield Api(server.url)
    server.stop()


def test_a_tenant_over_its_key_quota_gets_a_coded_error(small_quota: Api) -> None:
    api = small_quota
    tenant = api.create_tenant()
    token = api.token(tenant)
    api.deployed(tenant, "filler", FILLER, token)
    api.deployed(tenant, "other", FILLER, token)

    assert api.http.get(f"/run/{tenant}/filler?key=a").text == "stored"
    assert api.http.get(f"/run/{tenant}/other?key=b").text == "stored"  # the quota is the tenant's
    refused = api.http.get(f"/run/{tenant}/filler?key=c")
    owner = api.http.put(f"/api/kv/{tenant}/filler/c", content=b"v", headers=token)

    assert refused.status_code == 507 and refused.json()["code"] == "storage_quota_exceeded"
    assert "at most 2 KV keys" in refused.json()["message"]
    assert owner.status_code == 507 and owner.json()["error"]["code"] == "storage_quota_exceeded"
    assert api.http.get(f"/run/{tenant}/filler?key=a").text == "stored"  # overwriting needs no new key
