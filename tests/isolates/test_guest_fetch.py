"""A guest's fetch goes through the host: the egress policy, caps and deadline hold."""

from __future__ import annotations

import time
from typing import Any

import orjson

from host_api.log import LogRecord
from host_api.request import guest_request
from isolates import CallSpec, Limits, Timeout, prepare, run
from tests.host_api.conftest import Handler, serve  # noqa: F401  (fixture)

FETCH_JSON = """
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("target");
    try {
      const response = await fetch(target, {headers: {"x-from": "guest"}});
      return Response.json({status: response.status, data: await response.json()});
    } catch (error) {
      return Response.json({error: error.name, message: error.message}, {status: 502});
    }
  }
};"""


def call(source: str, target: str, allowed: list[str], limits: Limits | None = None) -> tuple[Any, list[LogRecord]]:
    """One call through the door: isolates builds the fetch session from the allow-list."""
    spec = CallSpec(limits=limits or Limits(), allowed_hosts=tuple(allowed))
    result = run(
        prepare("javascript", source, spec.limits),
        guest_request(url=f"http://fn.test/?target={target}", query=[("target", target)]),
        spec,
    )
    return result, result.logs


def json_route(handler: Handler) -> None:
    handler.send(200, orjson.dumps({"hello": "from loopback", "x-from": handler.headers.get("x-from")}),
                 (("content-type", "application/json"),))


def test_allow_listed_loopback_fetch_returns_json(serve) -> None:  # noqa: F811
    server = serve({"/data": json_route})
    result, _ = call(FETCH_JSON, server.url("/data"), [server.origin()])
    assert result.status == 200
    assert orjson.loads(result.body) == {"status": 200, "data": {"hello": "from loopback", "x-from": "guest"}}


def test_fetch_not_on_the_allow_list_is_denied_without_a_connection(serve) -> None:  # noqa: F811
    server = serve({"/data": json_route})
    result, log = call(FETCH_JSON, server.url("/data"), [])
    body = orjson.loads(result.body)
    assert result.status == 502
    assert body["error"] == "TypeError"
    assert body["message"].startswith("fetch failed: egress_denied: ")
    assert server.connections == 0
    assert any("egress_denied" in record.msg for record in log)  # the log says why, too


def test_metadata_address_is_denied(serve) -> None:  # noqa: F811
    result, _ = call(FETCH_JSON, "http://169.254.169.254/latest/meta-data/", ["http://*"])
    body = orjson.loads(result.body)
    assert body["error"] == "TypeError"
    assert "egress_denied" in body["message"] and "link-local" in body["message"]


def test_slow_server_hits_the_calls_deadline(serve) -> None:  # noqa: F811
    def slow(handler: Handler) -> None:
        handler.server.release.wait(5)
        json_route(handler)

    server = serve({"/slow": slow})
    started = time.monotonic()
    try:
        result, _ = call(FETCH_JSON, server.url("/slow"), [server.origin()], Limits(wall_clock_ms=300))
        message = orjson.loads(result.body)["message"]
        assert "timeout" in message or "deadline" in message
    except Timeout:
        pass  # the epoch deadline may end the call first: the same outcome for the caller
    assert time.monotonic() - started < 3
