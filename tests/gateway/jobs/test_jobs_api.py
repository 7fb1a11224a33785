"""Async jobs over HTTP on a real gateway (SQLite and PostgreSQL registries) running real guests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer, error_code

ECHO = """module.exports = function (ctx, cb) {
  console.log('job', ctx.meta.job, 'attempt', ctx.meta.attempt);
  cb(null, { body: ctx.body, who: ctx.query.who, source: ctx.meta.source, attempt: ctx.meta.attempt });
};"""
THROWS = "module.exports = function (ctx, cb) { throw new Error('nope'); };"
SPINS = "module.exports = function (ctx, cb) { for (;;) {} };"


def slow(upstream: str, seconds: float = 1.0) -> dict[str, Any]:
    """A function that waits ``seconds`` on the slow upstream (deploy fields)."""
    code = f"""module.exports = async function (ctx, cb) {{
  const answer = await fetch('{upstream}/?s={seconds}');
  cb(null, await answer.text());
}};"""
    return {"code": code, "allowed_hosts": [upstream]}


def submitted(api: Api, tenant: str, name: str, token: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = api.http.post(f"/api/jobs/{tenant}/{name}", headers=token, **kwargs)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/jobs/{tenant}/{response.json()['id']}"
    return dict(response.json())


def finished(api: Api, tenant: str, job_id: str, token: dict[str, str]) -> dict[str, Any]:
    response = api.http.get(f"/api/jobs/{tenant}/{job_id}", params={"wait": "20s"}, headers=token)
    assert response.status_code == 200, response.text
    job = dict(response.json())
    assert job["status"] in ("succeeded", "failed", "dead"), job
    return job


def test_a_job_answers_202_at_once_then_its_result(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "echo", ECHO, token)
    job = submitted(api, tenant, "echo", token, params={"who": "you"}, json={"n": 1})
    assert job["status"] in ("queued", "running", "succeeded") and job["function"] == "echo"

    done = finished(api, tenant, job["id"], token)
    assert done["status"] == "succeeded" and done["attempts"] == 1 and done["error"] is None
    assert done["result"] == {"kind": "json", "value": {"body": {"n": 1}, "who": "you", "source": "job", "attempt": 1}}
    assert done["fuel_used"] > 0 and done["duration_ms"] > 0

    runs = api.http.get(f"/api/runs/{tenant}/echo", headers=token).json()["runs"]
    assert [(run["job"], run["code"], run["status"], run["source"]) for run in runs] == [
        (job["id"], "ok", 200, "job")]
    listed = api.http.get(f"/api/jobs/{tenant}", params={"function": "echo"}, headers=token).json()["jobs"]
    assert [item["id"] for item in listed] == [job["id"]]


def test_the_same_idempotency_key_returns_the_same_job(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "echo", ECHO, token)
    key = {"idempotency-key": "order-7f3a"}
    first = api.http.post(f"/api/jobs/{tenant}/echo", headers={**token, **key}, json={"n": 1})
    again = api.http.post(f"/api/jobs/{tenant}/echo", headers={**token, **key}, json={"n": 2})

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert finished(api, tenant, first.json()["id"], token)["result"]["value"]["body"] == {"n": 1}
    assert len(api.http.get(f"/api/jobs/{tenant}", headers=token).json()["jobs"]) == 1
    bad = api.http.post(f"/api/jobs/{tenant}/echo", headers={**token, "idempotency-key": "a b"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_request"


@pytest.mark.parametrize(("code", "failure"), [(THROWS, "guest_error"), (SPINS, "cpu_limit")])
def test_a_failure_of_the_function_is_final_never_retried(api: Api, tenant: str, token: dict[str, str], code: str,
                                                          failure: str) -> None:
    api.deployed(tenant, "bad", code, token, limits={"fuel": 20_000_000})
    done = finished(api, tenant, submitted(api, tenant, "bad", token)["id"], token)

    assert (done["status"], done["attempts"], done["error"]["code"]) == ("failed", 1, failure)
    [run] = api.http.get(f"/api/runs/{tenant}/bad", headers=token).json()["runs"]
    assert (run["code"], run["status"]) == (failure, None)


def test_who_may_submit_and_read_jobs(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "echo", ECHO, token)
    deploy_only = api.token(tenant, "deploy")
    other = api.token(api.create_tenant())

    assert api.http.post(f"/api/jobs/{tenant}/echo").status_code == 401
    assert error_code(api.http.post(f"/api/jobs/{tenant}/echo", headers=deploy_only)) == "forbidden"
    assert error_code(api.http.post(f"/api/jobs/{tenant}/echo", headers=other)) == "forbidden"
    assert error_code(api.http.post(f"/api/jobs/{tenant}/nothing-here", headers=token)) == "not_found"
    job = submitted(api, tenant, "echo", token)
    assert error_code(api.http.get(f"/api/jobs/{tenant}/{job['id']}", headers=other)) == "forbidden"
    assert error_code(api.http.get(f"/api/jobs/{tenant}/job_{'0' * 32}", headers=token)) == "not_found"
    assert error_code(api.http.get(f"/api/jobs/{tenant}/nope", headers=token)) == "invalid_request"
    too_long = api.http.get(f"/api/jobs/{tenant}/{job['id']}", params={"wait": "5m"}, headers=token)
    assert error_code(too_long) == "invalid_request" and "10s" in too_long.json()["error"]["message"]
    assert error_code(api.http.get(f"/api/runs/{tenant}/echo", headers=api.token(tenant, "run"))) == "forbidden"
    finished(api, tenant, job["id"], token)


def test_a_long_poll_answers_when_the_job_is_done(api: Api, tenant: str, token: dict[str, str],
                                                 slow_upstream: str) -> None:
    fields = slow(slow_upstream)
    api.deployed(tenant, "slow", fields.pop("code"), token, **fields)
    job = submitted(api, tenant, "slow", token)
    started = time.monotonic()
    response = api.http.get(f"/api/jobs/{tenant}/{job['id']}", params={"wait": "25s"}, headers=token)
    waited = time.monotonic() - started

    assert response.json()["status"] == "succeeded"
    assert response.json()["result"] == {"kind": "json", "value": "slept 1"}
    assert waited < 25  # it answered when the job finished, not when the wait ran out
    second = submitted(api, tenant, "slow", token)["id"]
    unfinished = api.http.get(f"/api/jobs/{tenant}/{second}", params={"wait": "1ms"}, headers=token)
    assert unfinished.json()["status"] in ("queued", "running")
    assert finished(api, tenant, second, token)["status"] == "succeeded"  # nothing left running on the shared server


@pytest.fixture(scope="module")
def small_queue(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = {**TEST_SETTINGS, "job_queue_depth": 2, "job_concurrency": 1}
    server = ThreadServer(Settings(data_dir=Path(tmp_path_factory.mktemp("jobs-small")),
                                   **settings)).start()  # type: ignore[arg-type]
    yield Api(server.url)
    server.stop()


def test_a_full_queue_answers_429_queue_full(small_queue: Api, slow_upstream: str) -> None:
    api = small_queue
    tenant = api.create_tenant()
    token = api.token(tenant)
    fields = slow(slow_upstream)
    api.deployed(tenant, "slow", fields.pop("code"), token, **fields)
    first = submitted(api, tenant, "slow", token)
    second = submitted(api, tenant, "slow", token)
    full = api.http.post(f"/api/jobs/{tenant}/slow", headers=token)

    assert full.status_code == 429 and error_code(full) == "queue_full" and full.headers["retry-after"] == "1"
    assert finished(api, tenant, first["id"], token)["status"] == "succeeded"
    assert submitted(api, tenant, "slow", token)["status"] == "queued"  # room again
    assert finished(api, tenant, second["id"], token)["status"] == "succeeded"
