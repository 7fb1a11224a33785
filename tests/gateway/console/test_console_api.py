"""The console's own API routes: the request builder's call and per-function statistics."""

from __future__ import annotations

import time

import httpx

from tests.gateway.console.conftest import ConsoleSite
from tests.gateway.support import error_code

WORKER = """export default {
  async fetch(request) {
    const url = new URL(request.url);
    console.log("path", url.pathname, "q", url.searchParams.get("q"));
    if (url.searchParams.get("fail")) throw new Error("asked to fail");
    return new Response("got " + request.method + " " + (await request.text()), {
      status: 201, headers: {"x-mine": request.headers.get("x-mine") || "none"}});
  }
}
"""


def test_console_routes_need_the_tenant_s_token_and_scope(site: ConsoleSite) -> None:
    api = site.api
    tenant, other = api.create_tenant(), api.create_tenant()
    api.deployed(tenant, "f", WORKER, api.token(tenant))
    stranger = api.token(other)
    run_only = api.token(tenant, "run")
    for method, path, headers, status in [
        ("GET", f"/api/console/{tenant}/stats", {}, 401),
        ("GET", f"/api/console/{tenant}/stats", stranger, 403),
        ("GET", f"/api/console/{tenant}/stats", run_only, 403),
        ("POST", f"/api/console/{tenant}/invoke/f", {}, 401),
        ("POST", f"/api/console/{tenant}/invoke/f", stranger, 403),
        ("POST", f"/api/console/{tenant}/invoke/f", api.token(tenant, "deploy"), 403),
    ]:
        response = api.http.request(method, path, headers=headers, json={})
        assert response.status_code == status, (method, path, response.text)


def test_invoke_calls_the_deployed_function_and_returns_its_answer_as_data(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    headers = api.token(tenant)
    api.deployed(tenant, "w", WORKER, headers)
    answer = api.http.post(f"/api/console/{tenant}/invoke/w", headers=headers, json={
        "method": "POST", "path": "/a/b", "query": "q=1", "headers": {"x-mine": "<b>yes</b>"}, "body": "hello"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    result = answer.json()
    assert result["status"] == 201
    assert result["body"] == "got POST hello"
    assert ["x-mine", "<b>yes</b>"] in result["headers"]
    assert isinstance(result["fuel_used"], int) and result["fuel_used"] > 0
    assert result["duration_ms"] > 0
    assert [record["msg"] for record in result["logs"]["records"]] == [f"path /run/{tenant}/w/a/b q 1"]


def test_invoke_reports_a_failing_call_with_its_logs(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    headers = api.token(tenant)
    api.deployed(tenant, "w", WORKER, headers)
    result = api.http.post(f"/api/console/{tenant}/invoke/w", headers=headers,
                           json={"query": {"fail": "1", "q": "z"}}).json()
    assert result["status"] == 500
    assert "asked to fail" in result["body"] or "guest_error" in result["body"]
    assert any("q z" in record["msg"] for record in result["logs"]["records"])
    bad = api.http.post(f"/api/console/{tenant}/invoke/w", headers=headers, json={"method": "BREW"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_request"


def test_stats_count_calls_and_errors_per_function(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    headers = api.token(tenant)
    api.deployed(tenant, "w", WORKER, headers)
    assert api.http.get(f"/api/console/{tenant}/stats", headers=headers).status_code == 200  # starts following
    for query in ("", "", "?fail=1"):
        httpx.get(f"{site.gateway.url}/run/{tenant}/w{query}")
    deadline = time.monotonic() + 10
    while True:
        stats = api.http.get(f"/api/console/{tenant}/stats", headers=headers).json()
        numbers = stats["functions"].get("w", {})
        if numbers.get("calls") == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert numbers["calls"] == 3 and numbers["errors"] == 1
    assert numbers["p50_ms"] > 0 and numbers["p99_ms"] >= numbers["p50_ms"]
    assert numbers["fuel_p50"] > 0
    assert len(numbers["series"]) == 60  # every minute of the hour, quiet ones as zeros
    assert sum(point["calls"] for point in numbers["series"]) == 3


def test_the_console_s_token_never_reaches_the_guest(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    headers = api.token(tenant)
    api.deployed(tenant, "echo", "export default { fetch(request) { "
                 "return Response.json([...request.headers.keys()]) } }", headers)
    result = api.http.post(f"/api/console/{tenant}/invoke/echo", headers=headers,
                           json={"headers": {"x-asked": "1", "Authorization": "Bearer forged"}}).json()
    seen = httpx.Response(200, content=result["body"]).json()
    assert "x-asked" in seen
    assert "authorization" not in seen
    assert headers["authorization"].removeprefix("Bearer ") not in result["body"]


def test_the_admin_key_signs_in_to_any_tenant(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    api.deployed(tenant, "w", WORKER, api.token(tenant))
    listed = api.http.get(f"/api/functions/{tenant}", headers=api.admin)
    assert [f["name"] for f in listed.json()["functions"]] == ["w"]
    result = api.http.post(f"/api/console/{tenant}/invoke/w", headers=api.admin, json={"query": "q=2"}).json()
    assert result["status"] == 201 and [r["msg"] for r in result["logs"]["records"]] == [f"path /run/{tenant}/w q 2"]
    assert api.http.get(f"/api/console/{tenant}/stats", headers=api.admin).status_code == 200
