"""Secrets reach the handler and nothing else: not API responses, not log lines, not the disk in clear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tests.gateway.support import Api, ThreadServer

SECRET = "sk_live_4f9a8b7c6d5e-very-secret"

WEBTASK = """
module.exports = function (ctx, cb) {
  console.log("using key " + ctx.secrets.API_KEY);
  cb(null, { matches: ctx.secrets.API_KEY === "%s", length: ctx.secrets.API_KEY.length, mode: ctx.meta.function });
};
""" % SECRET

WORKER = """
export default {
  async fetch(request, env) {
    console.log("env has", env.API_KEY);
    return Response.json({ matches: env.API_KEY === "%s", mode: env.MODE });
  },
};
""" % SECRET


def read_logs(api: Api, tenant: str, token: dict[str, str], until: Callable[[dict[str, Any]], bool]) -> list[dict]:
    """The tenant's log records (replayed, then live) up to the first one ``until`` accepts."""
    records: list[dict[str, Any]] = []
    with api.http.stream("GET", f"/api/logs/{tenant}", headers=token, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                records.append(orjson.loads(line[len("data: "):]))
                if until(records[-1]):
                    break
    return records


def test_secrets_reach_webtask_and_workers_handlers(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "webtask", WEBTASK, token, secrets={"API_KEY": SECRET})
    api.deployed(tenant, "worker", WORKER, token, secrets={"API_KEY": SECRET}, env={"MODE": "prod"})

    assert api.http.get(f"/run/{tenant}/webtask").json() == {"matches": True, "length": len(SECRET),
                                                              "mode": "webtask"}
    assert api.http.get(f"/run/{tenant}/worker").json() == {"matches": True, "mode": "prod"}


def test_secrets_never_appear_in_api_responses(api: Api, tenant: str, token: dict) -> None:
    responses = [
        api.deploy(tenant, "f", WEBTASK, token, secrets={"API_KEY": SECRET}),
        api.http.get(f"/api/functions/{tenant}/f", headers=token),
        api.http.get(f"/api/functions/{tenant}", headers=token),
        api.http.get(f"/api/functions/{tenant}/f/versions", headers=token),
        api.http.get(f"/api/tenants/{tenant}", headers=token),
        api.deploy(tenant, "f", WEBTASK, token),  # keeps the secret
        api.http.get("/metrics"),
    ]

    for response in responses:
        assert response.status_code == 200, response.text
        assert SECRET not in response.text
    assert responses[1].json()["secrets"] == ["API_KEY"]
    assert api.http.get(f"/run/{tenant}/f").json()["matches"] is True  # the redeploy kept it


def test_secrets_never_appear_in_log_lines(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "webtask", WEBTASK, token, secrets={"API_KEY": SECRET})
    api.deployed(tenant, "worker", WORKER, token, secrets={"API_KEY": SECRET})
    api.http.get(f"/run/{tenant}/webtask")
    api.http.get(f"/run/{tenant}/worker")

    records = read_logs(api, tenant, token, lambda r: r.get("event") == "invocation_end" and r["function"] == "worker")

    text = orjson.dumps(records).decode()
    assert SECRET not in text
    assert "using key [secret]" in text and "env has [secret]" in text


def test_logs_carry_guest_lines_and_platform_events(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "noisy", "module.exports = function (cb) { console.warn('careful'); cb(null, 1); };", token)
    request_id = api.http.get(f"/run/{tenant}/noisy").headers["x-request-id"]

    records = read_logs(api, tenant, token, lambda r: r.get("event") == "invocation_end")

    mine = [r for r in records if r.get("request_id") == request_id]
    assert [r.get("event") for r in mine] == ["invocation_start", None, "invocation_end"]
    assert mine[1]["level"] == "warn" and mine[1]["msg"] == "careful"
    end = mine[2]
    assert end["code"] == "ok" and end["fuel_used"] > 0 and end["duration_ms"] > 0
    assert {end["tenant"], end["function"]} == {tenant, "noisy"}


def test_failed_calls_log_their_error_code(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "burns", "module.exports = function (cb) { for (;;) {} };", token,
                 limits={"fuel": 10_000_000})
    api.http.get(f"/run/{tenant}/burns")

    records = read_logs(api, tenant, token, lambda r: r.get("event") == "invocation_end")

    assert records[-1]["code"] == "cpu_limit" and records[-1]["level"] == "error"


def test_secret_key_file_is_private(server: ThreadServer) -> None:
    key_file = server.settings.data_dir / "secret.key"

    assert key_file.stat().st_mode & 0o777 == 0o600
