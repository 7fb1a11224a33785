"""Liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from tests.gateway.support import Api

HELLO = "module.exports = function (cb) { cb(null, 'hello'); };"


def test_liveness_and_readiness(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    assert api.http.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_invocations_errors_duration_fuel_and_isolates(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", HELLO, token)
    api.http.get(f"/run/{tenant}/f")
    api.http.get("/no/such/route")

    response = api.http.get("/metrics")
    text = response.text

    assert response.headers["content-type"].startswith("text/plain")
    assert 'wasmtask_invocations_total{code="ok",kind="edge"}' in text
    assert 'wasmtask_http_errors_total{code="not_found"}' in text
    assert 'wasmtask_deploys_total{code="ok"}' in text
    assert "wasmtask_invocation_duration_seconds_bucket" in text
    assert "wasmtask_invocation_fuel_bucket" in text
    assert "wasmtask_isolates_in_flight 0.0" in text
    assert "wasmtask_programs_cached" in text
