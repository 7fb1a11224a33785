"""``GET /api/functions/{tenant}/{name}/versions/{version}``: one version with its code (what ``wasmtask bench
--name`` measures), for the deployer only."""

from __future__ import annotations

import base64

from tests.gateway.support import Api, error_code

WAT = '(module (memory (export "memory") 1) (func (export "wasmtask_alloc") (param i32) (result i32) (i32.const 0))' \
      ' (func (export "wasmtask_handle") (param i32 i32) (result i64) (i64.const 0)))'


def test_each_version_comes_with_its_code_as_stored(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", "export default { fetch() { return new Response('one'); } };", token,
                 filename="worker.js", env={"MODE": "a"})
    api.deployed(tenant, "f", WAT, token, language="wasm", secrets={"API_KEY": "s3cr3t-value"})
    first = api.http.get(f"/api/functions/{tenant}/f/versions/v1", headers=token)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == "v1" and first.json()["language"] == "javascript"
    assert first.json()["filename"] == "worker.js" and first.json()["env"] == {"MODE": "a"}
    assert base64.b64decode(first.json()["code_base64"]) == b"export default { fetch() { return new Response('one'); } };"
    for wanted in ("2", "current"):
        second = api.http.get(f"/api/functions/{tenant}/f/versions/{wanted}", headers=token).json()
        assert (second["version"], second["language"]) == ("v2", "wasm")
        assert base64.b64decode(second["code_base64"]) == WAT.encode()
        assert second["secrets"] == ["API_KEY"]  # names only: never the values
    assert "s3cr3t-value" not in api.http.get(f"/api/functions/{tenant}/f/versions/v2", headers=token).text


def test_only_a_deployer_reads_code(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", WAT, token, language="wasm")
    run_only = api.token(tenant, "run")
    response = api.http.get(f"/api/functions/{tenant}/f/versions/v1", headers=run_only)
    assert response.status_code == 403 and error_code(response) == "forbidden"
    assert api.http.get(f"/api/functions/{tenant}/f/versions/v1").status_code == 401


def test_a_missing_or_malformed_version_is_a_clear_error(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", WAT, token, language="wasm")
    missing = api.http.get(f"/api/functions/{tenant}/f/versions/v7", headers=token)
    assert missing.status_code == 404 and "no version v7" in missing.json()["error"]["message"]
    malformed = api.http.get(f"/api/functions/{tenant}/f/versions/latest", headers=token)
    assert malformed.status_code == 400 and error_code(malformed) == "invalid_request"
    wrong_method = api.http.delete(f"/api/functions/{tenant}/f/versions/v1", headers=token)
    assert wrong_method.status_code == 405
