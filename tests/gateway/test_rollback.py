"""Rollback and secrets over HTTP: each is the function's next version, served at once here and by other workers."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.config import Settings
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer, error_code


def answers(n: int) -> str:
    return f"module.exports = function (ctx, cb) {{ cb(null, {{n: {n}, key: ctx.secrets.KEY || null}}); }};"


def test_rollback_serves_the_previous_version_as_the_next_one(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", answers(1), token, secrets={"KEY": "one"})
    api.deployed(tenant, "f", answers(2), token, secrets={"KEY": "two"})

    response = api.http.post(f"/api/functions/{tenant}/f/rollback", headers=token)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["rolled_back_to"], body["rolled_back_from"], body["note"]) == (
        "v3", "v1", "v2", "rollback to v1")
    assert api.http.get(f"/run/{tenant}/f").json() == {"n": 1, "key": "two"}  # the code of v1, today's secrets


def test_rollback_to_a_named_version_and_again(api: Api, tenant: str, token: dict) -> None:
    for n in (1, 2, 3):
        api.deployed(tenant, "f", answers(n), token)

    first = api.http.post(f"/api/functions/{tenant}/f/rollback", json={"version": "v1"}, headers=token)
    undo = api.http.post(f"/api/functions/{tenant}/f/rollback", headers=token)  # the one before v4: v3

    assert first.json()["version"] == "v4" and undo.json()["version"] == "v5"
    assert api.http.get(f"/run/{tenant}/f").json()["n"] == 3
    versions = api.http.get(f"/api/functions/{tenant}/f/versions", headers=token).json()["versions"]
    assert [(v["version"], v["note"]) for v in versions][-2:] == [("v4", "rollback to v1"), ("v5", "rollback to v3")]


def test_rollback_errors(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", answers(1), token)

    nothing_before = api.http.post(f"/api/functions/{tenant}/f/rollback", headers=token)
    no_such = api.http.post(f"/api/functions/{tenant}/f/rollback", json={"version": "v9"}, headers=token)
    current = api.http.post(f"/api/functions/{tenant}/f/rollback", json={"version": 1}, headers=token)
    malformed = api.http.post(f"/api/functions/{tenant}/f/rollback", json={"version": "latest"}, headers=token)
    no_function = api.http.post(f"/api/functions/{tenant}/nope/rollback", headers=token)
    wrong_method = api.http.get(f"/api/functions/{tenant}/f/rollback", headers=token)

    assert (nothing_before.status_code, error_code(nothing_before)) == (404, "not_found")
    assert (no_such.status_code, error_code(no_such)) == (404, "not_found")
    assert (current.status_code, error_code(current)) == (400, "invalid_request")
    assert (malformed.status_code, error_code(malformed)) == (400, "invalid_request")
    assert (no_function.status_code, error_code(no_function)) == (404, "not_found")
    assert (wrong_method.status_code, error_code(wrong_method)) == (405, "method_not_allowed")


def test_secrets_are_set_and_removed_one_by_one_as_new_versions(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", answers(1), token)

    put = api.http.put(f"/api/functions/{tenant}/f/secrets/KEY", json={"value": "s3cret"}, headers=token)
    listed = api.http.get(f"/api/functions/{tenant}/f/secrets", headers=token).json()
    seen = api.http.get(f"/run/{tenant}/f").json()
    deleted = api.http.delete(f"/api/functions/{tenant}/f/secrets/KEY", headers=token)

    assert put.status_code == 200 and (put.json()["version"], put.json()["note"]) == ("v2", "secret KEY set")
    assert "s3cret" not in put.text and listed["secrets"] == ["KEY"]
    assert seen == {"n": 1, "key": "s3cret"}
    assert deleted.json()["version"] == "v3" and api.http.get(f"/run/{tenant}/f").json()["key"] is None
    missing = api.http.delete(f"/api/functions/{tenant}/f/secrets/KEY", headers=token)
    bad_name = api.http.put(f"/api/functions/{tenant}/f/secrets/1BAD", json={"value": "x"}, headers=token)
    bad_body = api.http.put(f"/api/functions/{tenant}/f/secrets/KEY", json={"v": "x"}, headers=token)
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    assert (bad_name.status_code, bad_body.status_code) == (400, 400)


def test_a_deploy_error_names_the_users_file_line_and_column(api: Api, tenant: str, token: dict) -> None:
    response = api.deploy(tenant, "f", "module.exports = function (cb) {\n  cb(null, 1\n};\n", token,
                          filename="handler.js")

    assert (response.status_code, error_code(response)) == (400, "invalid_code")
    error = response.json()["error"]
    assert error["name"] == "SyntaxError"
    assert error["location"] == {"file": "handler.js", "line": 3, "column": 1}


def test_stack_traces_of_calls_name_the_deployed_file(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", "module.exports = function (cb) {\n  null.x;\n};\n", token, filename="handler.js")

    response = api.http.post(f"/api/run/{tenant}", json={"code": "module.exports = function (cb) {\n  null.y;\n};",
                                                         "filename": "adhoc.js"}, headers=token)

    assert response.json()["error"]["location"] == {"file": "adhoc.js", "line": 2, "column": 3}
    assert api.http.get(f"/api/functions/{tenant}/f", headers=token).json()["filename"] == "handler.js"


def test_a_bad_filename_is_an_invalid_request(api: Api, tenant: str, token: dict) -> None:
    response = api.deploy(tenant, "f", answers(1), token, filename="../etc/passwd")

    assert (response.status_code, error_code(response)) == (400, "invalid_request")


def test_a_rollback_reaches_another_worker_through_the_change_feed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **TEST_SETTINGS)  # type: ignore[arg-type]
    first, second = ThreadServer(settings).start(), ThreadServer(settings).start()  # two workers, one registry
    try:
        one, other = Api(first.url), Api(second.url)
        tenant = one.create_tenant()
        token = one.token(tenant)
        one.deployed(tenant, "f", answers(1), token)
        one.deployed(tenant, "f", answers(2), token)
        assert wait_for(lambda: other.http.get(f"/run/{tenant}/f").json()["n"] == 2)

        assert one.http.post(f"/api/functions/{tenant}/f/rollback", headers=token).status_code == 200

        assert wait_for(lambda: other.http.get(f"/run/{tenant}/f").json()["n"] == 1)
    finally:
        first.stop()
        second.stop()


def wait_for(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False
