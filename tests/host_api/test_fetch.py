"""FetchSession against real loopback servers (127.0.0.1 and ::1 only)."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from host_api import errors
from host_api.egress import EgressPolicy
from host_api.fetch import FetchLimits, FetchSession
from tests.host_api.conftest import FakeDNS, Handler, LoopbackServer, ipv6_loopback_available

Serve = Callable[..., LoopbackServer]


class LogLines(list[tuple[str, str]]):
    def __call__(self, level: str, message: str) -> None:
        self.append((level, message))


def session(
    allowed: list[str],
    *,
    limits: FetchLimits = FetchLimits(),
    seconds_left: float = 10.0,
    resolver: Any = None,
    log: LogLines | None = None,
    **options: Any,
) -> FetchSession:
    return FetchSession(
        EgressPolicy.from_strings(allowed), limits, time.monotonic() + seconds_left, resolver, log, **options
    )


def json_route(payload: object, status: int = 200) -> Callable[[Handler], None]:
    body = json.dumps(payload).encode()
    return lambda handler: handler.send(status, body, (("Content-Type", "application/json"),))


def redirect_route(location: str, status: int = 302) -> Callable[[Handler], None]:
    return lambda handler: handler.send(status, b"", (("Location", location),))


def echo(handler: Handler) -> None:
    request = handler.server.requests[-1]
    payload = {"method": request.method, "headers": request.headers, "body": request.body.decode("utf-8", "replace")}
    handler.send(200, json.dumps(payload).encode(), (("Content-Type", "application/json"),))


def test_fetches_json_from_an_allowed_loopback_server(serve: Serve) -> None:
    server = serve({"/data": json_route({"hello": "world"})})
    log = LogLines()

    with session([server.origin()], log=log) as fetcher:
        answer = fetcher.fetch(
            {"url": server.url("/data?x=1"), "method": "GET", "headers": [["accept", "application/json"]]}
        )

    assert answer["ok"] is True
    assert answer["status"] == 200
    assert answer["statusText"] == "OK"
    assert json.loads(answer["body"]) == {"hello": "world"}
    assert answer["url"] == server.url("/data?x=1")
    assert answer["redirected"] is False
    assert ["content-type", "application/json"] in answer["headers"]
    assert server.requests[0].path == "/data?x=1"
    assert log[-1][0] == "info"
    assert log[-1][1].startswith(f"fetch GET {server.url('/data?x=1')} -> 200 (18 bytes,")


def test_sends_the_guests_body_and_headers_but_not_hop_by_hop_ones(serve: Serve) -> None:
    server = serve({"/echo": echo})
    log = LogLines()
    request = {
        "url": server.url("/echo"),
        "method": "post",
        "headers": [
            ["X-Custom", "  yes  "],
            ["Host", "evil.test"],
            ["Content-Length", "1"],
            ["Transfer-Encoding", "chunked"],
            ["Connection", "upgrade"],
        ],
        "body": "h\u00e9llo",
    }

    answer = session([server.origin()], log=log).fetch(request)

    echoed = json.loads(answer["body"])
    headers = dict(echoed["headers"])
    assert echoed["method"] == "POST"
    assert echoed["body"] == "h\u00e9llo"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["content-length"] == "6"
    assert headers["x-custom"] == "yes"
    assert headers["user-agent"] == "wasmtask-fetch/0.1"
    assert headers["content-type"] == "text/plain;charset=UTF-8"
    assert "transfer-encoding" not in headers
    assert ("debug", "fetch: ignored request header 'host' (set by the host)") in log


def test_the_guest_may_set_its_own_user_agent(serve: Serve) -> None:
    server = serve({"/echo": echo})

    answer = session([server.origin()]).fetch({"url": server.url("/echo"), "headers": [["user-agent", "mine/1"]]})

    assert dict(json.loads(answer["body"])["headers"])["user-agent"] == "mine/1"


def test_a_binary_body_goes_both_ways_as_base64(serve: Serve) -> None:
    blob = bytes(range(256))
    server = serve({"/blob": lambda handler: handler.send(200, blob), "/echo": echo})
    fetcher = session([server.origin()])

    download = fetcher.fetch({"url": server.url("/blob")})
    upload = fetcher.fetch(
        {"url": server.url("/echo"), "method": "PUT", "body_base64": base64.b64encode(b"\xff\x00").decode()}
    )

    assert "body" not in download
    assert base64.b64decode(download["body_base64"]) == blob
    assert server.requests[-1].body == b"\xff\x00"
    assert upload["ok"] is True


def test_a_host_not_on_the_allow_list_is_denied_without_connecting(serve: Serve) -> None:
    server = serve({"/": json_route({})})
    log = LogLines()

    answer = session([f"http://localhost:{server.port}", "http://127.0.0.1:1"], log=log).fetch({"url": server.url("/")})

    assert answer == {"ok": False, "error": {"code": "egress_denied", "message": "127.0.0.1 is loopback"}}
    assert server.connections == 0
    assert log == [("warn", f"fetch egress_denied: {answer['error']['message']}")]


def test_an_empty_allow_list_allows_nothing(serve: Serve) -> None:
    server = serve({"/": json_route({})})

    answer = session([]).fetch({"url": server.url("/")})

    assert answer["error"]["code"] == "egress_denied"
    assert server.connections == 0


def test_a_redirect_to_the_metadata_address_is_denied(serve: Serve) -> None:
    server = serve({"/go": redirect_route("http://169.254.169.254/latest/meta-data/")})

    answer = session([server.origin()]).fetch({"url": server.url("/go")})

    assert answer["error"]["code"] == "egress_denied"
    assert answer["error"]["message"].startswith("169.254.169.254 is link-local (cloud metadata)")
    assert server.connections == 1


def test_a_redirect_to_a_loopback_port_not_allowed_is_denied(serve: Serve) -> None:
    other = serve({"/": json_route({"secret": True})})
    server = serve({"/go": redirect_route(other.url("/"), status=307)})

    answer = session([server.origin()]).fetch({"url": server.url("/go")})

    assert answer["error"]["code"] == "egress_denied"
    assert other.connections == 0


def test_a_redirect_spelled_with_a_backslash_is_read_like_a_browser(serve: Serve) -> None:
    server = serve({"/go": redirect_route("/\\169.254.169.254/")})

    answer = session([server.origin()]).fetch({"url": server.url("/go")})

    assert answer["error"]["code"] == "egress_denied"
    assert "169.254.169.254 is link-local" in answer["error"]["message"]


def test_303_turns_a_post_into_a_get_without_body(serve: Serve) -> None:
    server = serve({"/start": redirect_route("/end", status=303), "/end": echo})

    answer = session([server.origin()]).fetch(
        {"url": server.url("/start"), "method": "POST", "body": "payload", "headers": [["content-type", "text/x"]]}
    )

    echoed = json.loads(answer["body"])
    assert answer["redirected"] is True
    assert answer["url"] == server.url("/end")
    assert echoed["method"] == "GET"
    assert echoed["body"] == ""
    assert "content-type" not in dict(echoed["headers"])


def test_307_keeps_the_method_and_body(serve: Serve) -> None:
    server = serve({"/start": redirect_route("/end", status=307), "/end": echo})

    answer = session([server.origin()]).fetch({"url": server.url("/start"), "method": "PUT", "body": "payload"})

    assert json.loads(answer["body"])["method"] == "PUT"
    assert json.loads(answer["body"])["body"] == "payload"


def test_a_cross_origin_redirect_drops_credentials(serve: Serve) -> None:
    other = serve({"/": echo})
    server = serve({"/go": redirect_route(other.url("/"), status=307)})

    answer = session([server.origin(), other.origin()]).fetch(
        {"url": server.url("/go"), "headers": [["authorization", "Bearer s3cret"], ["x-keep", "1"]]}
    )

    assert server.requests[0].header("authorization") == "Bearer s3cret"
    assert other.requests[0].header("authorization") is None
    assert other.requests[0].header("x-keep") == "1"
    assert answer["redirected"] is True


def test_redirect_modes_manual_and_error(serve: Serve) -> None:
    server = serve({"/go": redirect_route("/end"), "/end": json_route({})})
    fetcher = session([server.origin()])

    manual = fetcher.fetch({"url": server.url("/go"), "redirect": "manual"})
    error = fetcher.fetch({"url": server.url("/go"), "redirect": "error"})

    assert manual["status"] == 302
    assert ["location", "/end"] in manual["headers"]
    assert manual["redirected"] is False
    assert error["error"]["code"] == "redirect_error"
    assert [request.path for request in server.requests] == ["/go", "/go"]


def test_a_manual_redirect_hands_back_even_an_odd_location(serve: Serve) -> None:
    server = serve({"/go": redirect_route("http://[::1/")})

    answer = session([server.origin()]).fetch({"url": server.url("/go"), "redirect": "manual"})

    assert answer["status"] == 302
    assert ["location", "http://[::1/"] in answer["headers"]


def test_fetches_do_not_share_cookies(serve: Serve) -> None:
    server = serve({"/set": lambda handler: handler.send(200, b"", (("Set-Cookie", "session=abc"),)), "/echo": echo})
    fetcher = session([server.origin()])

    fetcher.fetch({"url": server.url("/set")})
    fetcher.fetch({"url": server.url("/echo")})

    assert server.requests[1].header("cookie") is None


def test_too_many_redirects(serve: Serve) -> None:
    server = serve({"/loop": redirect_route("/loop")})

    answer = session([server.origin()], limits=FetchLimits(max_redirects=2)).fetch({"url": server.url("/loop")})

    assert answer["error"] == {"code": "redirect_error", "message": "too many redirects: more than 2"}
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "http://[::1/", "http://user:pw@127.0.0.1/", "http://1.2.3.4.5/"]
)
def test_a_redirect_to_an_unusable_url_is_a_redirect_error(serve: Serve, location: str) -> None:
    server = serve({"/go": redirect_route(location)})

    answer = session([server.origin()]).fetch({"url": server.url("/go")})

    assert answer["error"]["code"] == "redirect_error", answer


def slow(handler: Handler) -> None:
    handler.server.release.wait(10)
    handler.send(200, b"late")


def test_a_slow_server_hits_the_calls_deadline(serve: Serve) -> None:
    server = serve({"/slow": slow})
    fetcher = session([server.origin()], limits=FetchLimits(timeout_ms=5000), seconds_left=0.3)

    started = time.monotonic()
    answer = fetcher.fetch({"url": server.url("/slow")})
    elapsed = time.monotonic() - started

    assert answer["error"]["code"] == "timeout"
    assert "(the call's deadline)" in answer["error"]["message"]
    assert 0.2 < elapsed < 0.8


def test_the_per_fetch_timeout_applies_before_the_deadline(serve: Serve) -> None:
    server = serve({"/slow": slow})
    fetcher = session([server.origin()], limits=FetchLimits(timeout_ms=200), seconds_left=10)

    started = time.monotonic()
    answer = fetcher.fetch({"url": server.url("/slow")})
    elapsed = time.monotonic() - started

    assert answer["error"]["code"] == "timeout"
    assert "(the per-fetch timeout of 200 ms)" in answer["error"]["message"]
    assert elapsed < 0.7


def trickle(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    while not handler.server.release.wait(0.05):
        try:
            handler.wfile.write(b"x")
            handler.wfile.flush()
        except OSError:
            return


def test_a_trickling_server_cannot_outlast_the_deadline(serve: Serve) -> None:
    server = serve({"/trickle": trickle})
    fetcher = session([server.origin()], seconds_left=0.5)

    started = time.monotonic()
    answer = fetcher.fetch({"url": server.url("/trickle")})
    elapsed = time.monotonic() - started

    assert answer["error"]["code"] == "timeout"
    assert elapsed < 0.9


def test_no_time_left_answers_timeout_without_connecting(serve: Serve) -> None:
    server = serve({"/": json_route({})})

    answer = session([server.origin()], seconds_left=-1).fetch({"url": server.url("/")})

    assert answer["error"]["code"] == "timeout"
    assert server.connections == 0


def test_a_hanging_dns_lookup_ends_at_the_deadline() -> None:
    unblock = threading.Event()

    def hanging_resolver(host: str, port: int) -> list[str]:
        unblock.wait(5)
        return ["93.184.215.14"]

    fetcher = session(["https://api.example.com"], seconds_left=0.3, resolver=hanging_resolver)
    try:
        started = time.monotonic()
        answer = fetcher.fetch({"url": "https://api.example.com/"})
        elapsed = time.monotonic() - started
    finally:
        unblock.set()

    assert answer["error"]["code"] == "timeout"
    assert elapsed < 0.8


def test_an_oversized_response_is_cut(serve: Serve) -> None:
    server = serve({"/big": lambda handler: handler.send(200, b"x" * (1 << 20))})

    fetcher = session([server.origin()], limits=FetchLimits(max_response_bytes=64 << 10))

    answer = fetcher.fetch({"url": server.url("/big")})

    assert answer["error"]["code"] == "response_too_large"
    assert "larger than 65536 bytes" in answer["error"]["message"]


def endless(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b"y" * 65536
    try:
        while not handler.server.release.is_set():
            handler.wfile.write(chunk)
    except OSError:
        return


def test_reading_stops_at_the_cap_when_the_length_is_unknown(serve: Serve) -> None:
    server = serve({"/endless": endless})

    started = time.monotonic()
    fetcher = session([server.origin()], limits=FetchLimits(max_response_bytes=256 << 10))
    answer = fetcher.fetch({"url": server.url("/endless")})

    assert answer["error"]["code"] == "response_too_large"
    assert time.monotonic() - started < 2


def test_a_gzip_body_is_decoded_and_its_encoding_headers_dropped(serve: Serve) -> None:
    payload = gzip.compress(json.dumps({"zipped": True}).encode())
    server = serve({"/gz": lambda handler: handler.send(200, payload, (("Content-Encoding", "gzip"),))})

    answer = session([server.origin()]).fetch({"url": server.url("/gz")})

    assert json.loads(answer["body"]) == {"zipped": True}
    assert "content-encoding" not in dict(answer["headers"])
    assert "content-length" not in dict(answer["headers"])
    assert server.requests[0].header("accept-encoding") == "gzip, deflate"


def test_a_gzip_bomb_stops_at_the_cap(serve: Serve) -> None:
    bomb = gzip.compress(b"\0" * (32 << 20), compresslevel=6)  # ~32 KiB on the wire
    server = serve({"/bomb": lambda handler: handler.send(200, bomb, (("Content-Encoding", "gzip"),))})

    fetcher = session([server.origin()], limits=FetchLimits(max_response_bytes=1 << 20))

    answer = fetcher.fetch({"url": server.url("/bomb")})

    assert len(bomb) < 1 << 20
    assert answer["error"]["code"] == "response_too_large"


def test_the_fetch_budget_is_per_call(serve: Serve) -> None:
    server = serve({"/": json_route({})})
    fetcher = session([server.origin()], limits=FetchLimits(max_fetches=2))

    answers = [fetcher.fetch({"url": server.url("/")}) for _ in range(3)]

    assert [answer["ok"] for answer in answers] == [True, True, False]
    assert answers[2]["error"] == {"code": "fetch_limit", "message": "too many fetches: at most 2 per call"}
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "body",
    [{"body": "x" * 1025}, {"body_base64": base64.b64encode(b"x" * 1025).decode()}, {"body": "\u00e9" * 513}],
)
def test_a_request_body_over_the_cap_is_a_fetch_limit(serve: Serve, body: dict[str, str]) -> None:
    server = serve({"/echo": echo})

    answer = session([server.origin()], limits=FetchLimits(max_request_body_bytes=1024)).fetch(
        {"url": server.url("/echo"), "method": "POST", **body}
    )

    assert answer["error"]["code"] == "fetch_limit"
    assert server.connections == 0


@pytest.mark.parametrize(
    "request_",
    [
        "http://127.0.0.1/",
        None,
        {},
        {"url": 42},
        {"url": "not a url"},
        {"url": "{url}", "method": "GET /x HTTP/1.1"},
        {"url": "{url}", "method": "CONNECT"},
        {"url": "{url}", "method": "trace"},
        {"url": "{url}", "method": 7},
        {"url": "{url}", "headers": {"a": "b"}},
        {"url": "{url}", "headers": [["a"]]},
        {"url": "{url}", "headers": [["bad name", "x"]]},
        {"url": "{url}", "headers": [["x-split", "a\r\nx-injected: 1"]]},
        {"url": "{url}", "headers": [["x-wide", "\u20ac"]]},
        {"url": "{url}", "headers": [["x-control", "a\x01b"]]},
        {"url": "{url}", "headers": [["x-null", "a\x00b"]]},
        {"url": "{url}", "body": "x"},
        {"url": "{url}", "method": "POST", "body": 5},
        {"url": "{url}", "method": "POST", "body": "a", "body_base64": "YQ=="},
        {"url": "{url}", "method": "POST", "body_base64": "not base64!"},
        {"url": "{url}", "redirect": "sometimes"},
        {"url": "{url}", "redirect": ["follow"]},
    ],
)
def test_invalid_requests_fail_cleanly_without_connecting(serve: Serve, request_: Any) -> None:
    server = serve({"/": json_route({})})
    if isinstance(request_, dict) and request_.get("url") == "{url}":
        request_ = {**request_, "url": server.url("/")}

    answer = session([server.origin()]).fetch(request_)

    assert answer["ok"] is False
    assert answer["error"]["code"] == "fetch_failed"
    assert server.connections == 0


def test_a_refused_connection_is_fetch_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    answer = session([f"http://127.0.0.1:{port}"]).fetch({"url": f"http://127.0.0.1:{port}/"})

    assert answer["error"]["code"] == "fetch_failed"
    assert "refused" in answer["error"]["message"].lower()


def test_a_hostname_entry_resolving_to_loopback_is_denied(serve: Serve) -> None:
    server = serve({"/": json_route({})})
    resolver = FakeDNS({"myhost.test": ["127.0.0.1"]})

    answer = session([f"http://myhost.test:{server.port}"], resolver=resolver).fetch(
        {"url": f"http://myhost.test:{server.port}/"}
    )

    assert answer["error"]["code"] == "egress_denied"
    assert answer["error"]["message"].startswith("myhost.test resolved to 127.0.0.1, which is loopback")
    assert server.connections == 0


def test_localhost_connects_to_the_checked_address_and_never_resolves_again(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve({"/echo": echo})
    resolver = FakeDNS({"localhost": ["127.0.0.1"]})
    system_lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        system_lookups.append(host)
        return real_getaddrinfo(host, *args, **(kwargs | {"flags": socket.AI_NUMERICHOST}))

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)  # any name lookup would now fail

    answer = session([f"http://localhost:{server.port}"], resolver=resolver).fetch(
        {"url": f"http://localhost:{server.port}/echo"}
    )

    assert answer["ok"] is True, answer
    assert resolver.lookups == ["localhost"]
    assert system_lookups == ["127.0.0.1"]
    assert server.requests[0].client_address == "127.0.0.1"
    assert server.requests[0].header("host") == f"localhost:{server.port}"
    assert answer["url"] == f"http://localhost:{server.port}/echo"


def test_the_checked_addresses_are_tried_in_order(serve: Serve) -> None:
    if not ipv6_loopback_available():
        pytest.skip("no ::1 here")
    server = serve({"/": json_route({"via": "v4"})})  # listens on 127.0.0.1 only
    resolver = FakeDNS({"localhost": ["::1", "127.0.0.1"]})

    fetcher = session([f"http://localhost:{server.port}"], resolver=resolver)

    answer = fetcher.fetch({"url": f"http://localhost:{server.port}/"})

    assert json.loads(answer["body"]) == {"via": "v4"}


def test_fetches_from_ipv6_loopback(serve: Serve) -> None:
    if not ipv6_loopback_available():
        pytest.skip("no ::1 here")
    server = serve({"/": json_route({"via": "v6"})}, host="::1")

    answer = session([server.origin()]).fetch({"url": server.url("/")})

    assert json.loads(answer["body"]) == {"via": "v6"}
    assert server.requests[0].client_address == "::1"


def test_tls_uses_the_hostname_for_sni_and_certificate_checks(serve: Serve, make_certificate: Any) -> None:
    certificate = make_certificate("localhost")
    server = serve({"/": json_route({"secure": True})}, tls=certificate.server_context())
    url = f"https://localhost:{server.port}/"
    fetcher = session(
        [f"https://localhost:{server.port}"],
        resolver=FakeDNS({"localhost": ["127.0.0.1"]}),
        ssl_context=certificate.client_context(),
    )

    answer = fetcher.fetch({"url": url})

    assert json.loads(answer["body"]) == {"secure": True}
    assert certificate.sni_seen == ["localhost"]


def test_a_certificate_for_another_name_fails(serve: Serve, make_certificate: Any) -> None:
    certificate = make_certificate("other.test")
    server = serve({"/": json_route({})}, tls=certificate.server_context())
    fetcher = session(
        [f"https://localhost:{server.port}"],
        resolver=FakeDNS({"localhost": ["127.0.0.1"]}),
        ssl_context=certificate.client_context(),
    )

    answer = fetcher.fetch({"url": f"https://localhost:{server.port}/"})

    assert answer["error"]["code"] == "fetch_failed"
    assert "certificate" in answer["error"]["message"].lower()
    assert server.requests == []


def test_a_closed_session_refuses_to_fetch() -> None:
    fetcher = session([])
    fetcher.close()

    with pytest.raises(RuntimeError):
        fetcher.fetch({"url": "http://127.0.0.1/"})


def test_every_fetch_error_has_a_documented_code() -> None:
    def subclasses(cls: type) -> list[type]:
        return [cls] + [sub for direct in cls.__subclasses__() for sub in subclasses(direct)]

    codes = {cls.code for cls in subclasses(errors.FetchError)}

    assert codes == errors.FETCH_ERROR_CODES
