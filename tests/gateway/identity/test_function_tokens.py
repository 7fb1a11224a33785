"""Tokens narrowed to one function (``"function"`` when issued, the ``fn`` claim): such a token reads,
deploys, runs and tails only that function, on every route.

``test_every_route_refuses_or_limits_a_token_for_another_function`` walks every route the
gateway mounts (gateway.routes.routes and the console's API): a route added later that does
not say which function it acts on either refuses narrowed tokens (auth.authorize's default)
or fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import orjson
import pytest
from starlette.routing import Route

from gateway.console import api as console_api
from gateway.routes import routes as gateway_routes
from gateway.routes.tenants import control_routes
from tests.gateway.support import Api, error_code

CODE = ("export default { async fetch(request) { console.log('called ' + new URL(request.url).pathname); "
        "return new Response('hello from the function') } }")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")

# Routes without a tenant in their path: public, or the control plane's (421 on a serving listener).
NOT_TENANT_ROUTES = {
    "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
    "/api/tenants", "/api/tokens", "/api/tokens/revoke", "/api/tokens/{jti}",
}
# Tenant-wide routes that answer a narrowed token with its own function's part only (checked one by one below).
LIMITED = {
    ("GET", "/api/functions/{tenant}"),
    ("GET", "/api/logs/{tenant}"),
    ("GET", "/api/jobs/{tenant}"),
    ("GET", "/api/console/{tenant}/stats"),
}
# Tenant-wide routes a narrowed token may not use at all, even for its own function.
TENANT_WIDE = {("POST", "/api/run/{tenant}"), ("GET", "/api/tenants/{tenant}"), ("HEAD", "/api/tenants/{tenant}")}


@dataclass
class Setup:
    tenant: str
    token_a: dict[str, str]  # narrowed to function "a"
    jobs: dict[str, str]  # function -> one of its jobs


def bearer(headers: dict[str, str]) -> str:
    return headers["authorization"].removeprefix("Bearer ")


@pytest.fixture
def setup(api: Api, tenant: str) -> Setup:
    for name in ("a", "b"):
        api.deployed(tenant, name, CODE, api.admin, auth="token")
    jobs = {}
    for name in ("a", "b"):
        submitted = api.http.post(f"/api/jobs/{tenant}/{name}", headers=api.admin, content=b"{}")
        assert submitted.status_code == 202, submitted.text
        jobs[name] = submitted.json()["id"]
    return Setup(tenant, api.token(tenant, function="a"), jobs)


def every_route() -> Iterator[tuple[str, str]]:
    """(method, path template) of every route the gateway mounts."""
    for route in [*gateway_routes, *console_api.routes]:
        assert isinstance(route, Route), route
        for method in sorted(route.methods or ()):
            yield method, route.path


def limited(method: str, path: str) -> bool:
    return (method, path) in LIMITED or (method == "HEAD" and ("GET", path) in LIMITED)


def concrete(path: str, setup: Setup, function: str) -> str:
    values = {"tenant": setup.tenant, "name": function, "version": "v1", "secret": "API_KEY", "key": "k1",
              "id": setup.jobs[function], "rest": f"{function}/nothing", "path": "x", "jti": "0" * 32}
    return PARAM.sub(lambda m: values[m.group(1)], path)


def status_of(client: httpx.Client, method: str, url: str, headers: dict[str, str]) -> tuple[int, str | None]:
    """The status and (for an error) its code, without reading a stream's body."""
    with client.stream(method, url, headers=headers, content=b"") as response:
        if response.status_code < 400 or method == "HEAD":
            return response.status_code, None
        response.read()
        return response.status_code, error_code(response)


def test_the_token_carries_the_function(api: Api, tenant: str) -> None:
    issued = api.control.post("/api/tokens", headers=api.admin,
                              json={"tenant": tenant, "scopes": "run,logs", "function": "hook"})

    assert issued.status_code == 201, issued.text
    assert issued.json()["function"] == "hook"
    assert jwt.decode(issued.json()["token"], options={"verify_signature": False})["fn"] == "hook"


def test_a_bad_function_name_is_refused_when_issuing(api: Api, tenant: str) -> None:
    issued = api.control.post("/api/tokens", headers=api.admin,
                              json={"tenant": tenant, "function": "../b"})

    assert issued.status_code == 400
    assert error_code(issued) == "invalid_request"


def test_every_route_refuses_or_limits_a_token_for_another_function(api: Api, setup: Setup) -> None:
    walked = []
    for method, path in every_route():
        if "{tenant}" not in path:
            assert path in NOT_TENANT_ROUTES, f"{method} {path}: a new route without a tenant: classify it here"
            continue
        if limited(method, path):
            continue
        status, code = status_of(api.http, method, concrete(path, setup, "b"), setup.token_a)
        if code == "control_plane_route":  # not served here: the control plane's routes are walked below
            continue
        assert status == 403, f"{method} {path} answered {status} to a token for another function"
        assert code in (None, "forbidden"), (method, path, code)
        walked.append((method, path))
    assert len(walked) >= 25, walked  # functions, secrets, versions, storage, KV, jobs, runs, edge, console...


def test_the_control_plane_refuses_a_narrowed_token_but_its_own_revocation(api: Api, setup: Setup) -> None:
    for route in control_routes:
        assert isinstance(route, Route)
        for method in sorted(route.methods or ()):
            if route.path == "/api/tokens/revoke":  # a token may revoke itself: below
                continue
            status, code = status_of(api.control, method, concrete(route.path, setup, "b"), setup.token_a)
            assert status == 403 and code in (None, "forbidden"), (method, route.path, status, code)


def test_the_same_routes_serve_the_token_for_its_own_function(api: Api, setup: Setup) -> None:
    # deleting the function goes last, so the other routes find it
    walk = sorted(every_route(), key=lambda route: route == ("DELETE", "/api/functions/{tenant}/{name}"))
    for method, path in walk:
        if "{tenant}" not in path or limited(method, path):
            continue
        status, code = status_of(api.http, method, concrete(path, setup, "a"), setup.token_a)
        if (method, path) in TENANT_WIDE:
            assert status == 403 and code in (None, "forbidden"), (method, path, status, code)
        else:  # a 400 for an empty body, a 404 for no such secret: anything but a refusal
            assert status not in (401, 403), f"{method} {path} refused the token for its own function ({code})"


def test_the_function_list_shows_only_the_token_s_function(api: Api, setup: Setup) -> None:
    listed = api.http.get(f"/api/functions/{setup.tenant}", headers=setup.token_a)

    assert listed.status_code == 200, listed.text
    assert [function["name"] for function in listed.json()["functions"]] == ["a"]
    everything = api.http.get(f"/api/functions/{setup.tenant}", headers=api.admin).json()["functions"]
    assert [function["name"] for function in everything] == ["a", "b"]


def test_the_job_list_shows_only_the_token_s_function(api: Api, setup: Setup) -> None:
    listed = api.http.get(f"/api/jobs/{setup.tenant}", headers=setup.token_a)
    asked_for_b = api.http.get(f"/api/jobs/{setup.tenant}?function=b", headers=setup.token_a)

    assert listed.status_code == 200, listed.text
    assert {job["function"] for job in listed.json()["jobs"]} == {"a"}
    assert asked_for_b.status_code == 403 and error_code(asked_for_b) == "forbidden"


def read_log(api: Api, url: str, headers: dict[str, str], until: str, seconds: float = 10) -> list[dict[str, Any]]:
    """The records of a live log stream until one whose msg has ``until``."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    with api.http.stream("GET", url, headers=headers, timeout=seconds) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                records.append(orjson.loads(line[len("data: "):]))
                if until in str(records[-1].get("msg", "")):
                    return records
            assert time.monotonic() < deadline, records
    return records


def test_the_live_log_carries_only_the_token_s_function(api: Api, setup: Setup) -> None:
    for name in ("b", "a"):  # b's record first: the stream must skip it
        called = api.http.get(f"/run/{setup.tenant}/{name}/marker-{name}", headers=api.admin)
        assert called.status_code == 200, called.text

    records = read_log(api, f"/api/logs/{setup.tenant}", setup.token_a, until="/marker-a")
    asked_for_b = api.http.get(f"/api/logs/{setup.tenant}?function=b", headers=setup.token_a)

    assert any("/marker-a" in str(record.get("msg")) for record in records)
    assert {record.get("function") for record in records} == {"a"}
    assert asked_for_b.status_code == 403 and error_code(asked_for_b) == "forbidden"


def test_any_reader_may_filter_the_live_log_by_function(api: Api, setup: Setup) -> None:
    api.http.get(f"/run/{setup.tenant}/a/only-a", headers=api.admin)
    api.http.get(f"/run/{setup.tenant}/b/only-b", headers=api.admin)

    records = read_log(api, f"/api/logs/{setup.tenant}?function=b", api.admin, until="/only-b")

    assert {record.get("function") for record in records} == {"b"}


def test_the_console_stats_show_only_the_token_s_function(api: Api, setup: Setup) -> None:
    url = f"/api/console/{setup.tenant}/stats"
    api.http.get(url, headers=api.admin)  # the worker starts keeping the tenant's stats
    for name in ("a", "b"):
        api.http.get(f"/run/{setup.tenant}/{name}", headers=api.admin)
    deadline = time.monotonic() + 5
    while set(api.http.get(url, headers=api.admin).json()["functions"]) != {"a", "b"}:
        assert time.monotonic() < deadline, "the calls never showed in the stats"
        time.sleep(0.05)

    stats = api.http.get(url, headers=setup.token_a)

    assert stats.status_code == 200, stats.text
    assert set(stats.json()["functions"]) == {"a"}


def test_the_token_runs_deploys_and_reads_its_function(api: Api, setup: Setup) -> None:
    deployed = api.deploy(setup.tenant, "a", CODE.replace("hello from", "changed"), setup.token_a)
    called = api.http.get(f"/run/{setup.tenant}/a", headers=setup.token_a)
    invoked = api.http.post(f"/api/console/{setup.tenant}/invoke/a", headers=setup.token_a, json={"path": "/x"})

    assert deployed.status_code == 200 and deployed.json()["version"] == "v2", deployed.text
    assert called.status_code == 200 and called.text == "changed the function"
    assert invoked.status_code == 200 and invoked.json()["body"] == "changed the function"
    assert any(record["msg"].endswith("/a/x") for record in invoked.json()["logs"]["records"])


def test_a_call_s_logs_are_refused_for_another_function(api: Api, setup: Setup) -> None:
    public = api.deployed(setup.tenant, "open", CODE, api.admin)  # public: anyone may call it

    called = api.http.get(f"/run/{setup.tenant}/open", headers={**setup.token_a, "x-wasmtask-logs": "1"})

    assert public["auth"] == "public"
    assert called.status_code == 403 and error_code(called) == "forbidden"


def test_the_token_revokes_itself_and_no_other(api: Api, setup: Setup) -> None:
    other = bearer(api.token(setup.tenant))
    own = bearer(setup.token_a)

    refused = api.control.post("/api/tokens/revoke", headers=setup.token_a, json={"token": other})
    revoked = api.control.post("/api/tokens/revoke", headers=setup.token_a, json={"token": own})

    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    deadline = time.monotonic() + 5
    while (answer := api.http.get(f"/api/functions/{setup.tenant}/a", headers=setup.token_a)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token is still accepted"
        time.sleep(0.02)
    assert error_code(answer) == "token_revoked"


def test_a_narrowed_token_reads_no_tenant_on_the_control_plane(api: Api, setup: Setup) -> None:
    answer = api.control.get(f"/api/tenants/{setup.tenant}", headers=setup.token_a)

    assert answer.status_code == 403 and error_code(answer) == "forbidden"
