"""The host side of a guest's ``fetch``: one ``FetchSession`` per call.

Synchronous on purpose: it runs inside a wasm host call on the call's worker
thread. A session is not thread-safe; use it from that one thread.

The request a guest sends (JSON, untrusted, every field checked)::

    {"url": str, "method": str = "GET", "headers": [[name, value], ...],
     "body": str | null, "body_base64": str (instead of body),
     "redirect": "follow" | "manual" | "error"}

The answer is ``{"ok": true, "status", "statusText", "headers", "url",
"redirected", "body" | "body_base64"}`` (``body`` when the bytes are valid
UTF-8) or ``{"ok": false, "error": {"code", "message"}}`` with a code from
``host_api.errors``. Guest mistakes never raise.

How it stays inside the policy and the limits:

- Every hop (the first request and each redirect) is decided by
  ``egress.decide``; the connection goes only to the addresses that decision
  checked: a custom httpcore network backend looks the host up in the pins
  the session set for this hop and never does DNS itself. The URL keeps the
  hostname, so the Host header, TLS SNI and certificate checks use it.
- Time: one fetch, redirects included, ends by
  ``min(now + limits.timeout_ms, deadline)``. The backend bounds every
  connect, TLS handshake, read and write by the time left, and DNS lookups run
  on a helper thread we stop waiting for at the deadline, so a slow or
  trickling server cannot hold the call past it.
- The response body is read as a stream and reading stops at
  ``limits.max_response_bytes`` (counted after gzip/deflate decoding, which we
  do ourselves with a bounded output, so a compression bomb stops at the cap).
- Request headers ``host``, ``content-length``, ``transfer-encoding``, ``cdn-loop``,
  ``connection`` and the other hop-by-hop headers are ignored (as browsers
  ignore forbidden headers), with a debug log line. ``user-agent`` defaults to
  ``wasmtask-fetch/0.1``. No cookies are kept between fetches; no proxy or
  environment settings are read.
- Redirects are followed by us (at most ``limits.max_redirects``): 303 turns
  anything but GET/HEAD into GET without a body, 301/302 turn POST into GET
  (the Fetch standard); 307/308 keep method and body. A redirect to another
  origin drops ``authorization``, ``proxy-authorization`` and ``cookie``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import re
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

import httpcore
import httpx

from host_api.egress import (
    EGRESS_DENIED,
    EgressDecision,
    EgressPolicy,
    IPAddress,
    Resolver,
    decide,
    parse_url,
    resolve_with_getaddrinfo,
)
from host_api.errors import (
    EgressDenied,
    FetchError,
    FetchFailed,
    FetchLimitExceeded,
    FetchTimeout,
    InvalidURL,
    RedirectError,
    ResponseTooLarge,
)

Log = Callable[[str, str], None]  # log(level, message); levels as in abi.LOG_LEVELS

USER_AGENT: Final = "wasmtask-fetch/0.1"
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
REDIRECT_MODES: Final = frozenset({"follow", "manual", "error"})

# Set by the host, never by the guest (ignored when a guest sets them).
# RFC 8586: every fetch carries the call's CDN-Loop value (set by the host, never by the
# guest), so a gateway can count how many wasmtask guests a request passed through.
LOOP_HEADER: Final = "cdn-loop"
IGNORED_REQUEST_HEADERS: Final = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
     "te", "trailer", "upgrade", "expect", LOOP_HEADER}
)
HOP_BY_HOP_RESPONSE_HEADERS: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
)
CROSS_ORIGIN_DROPPED_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
BODY_HEADERS: Final = frozenset({"content-type", "content-encoding", "content-language", "content-location"})
FORBIDDEN_METHODS: Final = frozenset({"CONNECT", "TRACE", "TRACK"})
NORMALIZED_METHODS: Final = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
# What the network layers raise, mapped once in FetchSession._fetch. TimeoutError
# comes from our DNS helper; httpcore's from our transport; httpx's from building
# a request (an URL httpx will not take).
TIMEOUT_ERRORS: Final = (TimeoutError, httpcore.TimeoutException, httpx.TimeoutException)
TRANSPORT_ERRORS: Final = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpx.HTTPError,
    httpx.InvalidURL,
)
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class FetchLimits:
    """Per-call fetch limits. Sizes in bytes, times in milliseconds."""

    max_fetches: int = 16  # guest fetch() calls per call, valid or not
    max_response_bytes: int = 1 << 20  # body bytes after decoding
    max_request_body_bytes: int = 1 << 20
    max_request_head_bytes: int = 64 << 10  # URL plus header names and values
    timeout_ms: int = 5000  # one fetch, redirects included; never past the call's deadline
    max_redirects: int = 5


def _ignore_log(level: str, message: str) -> None:
    pass


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """certifi's roots, loaded once per process, not per fetch (what loading them costs:
    benches/README.md, "Why the hot path is shaped this way")."""
    return httpx.create_ssl_context(trust_env=False)


class FetchSession:
    """Performs a guest's fetches for one call, inside its policy, limits and deadline."""

    def __init__(
        self,
        policy: EgressPolicy,
        limits: FetchLimits,
        deadline: float,
        resolver: Resolver | None = None,
        log: Log | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        cdn_loop: str = "",
    ) -> None:
        """``deadline`` is a ``time.monotonic()`` value: the call's own end.

        ``ssl_context`` replaces certifi's roots (a private CA, or tests).
        ``cdn_loop``, when set, is sent as the ``CDN-Loop`` header of every request
        (redirects included); a guest's own CDN-Loop header is ignored.
        """
        self.policy = policy
        self.limits = limits
        self.deadline = deadline
        self._resolver = resolver
        self._log = log if log is not None else _ignore_log
        self._ssl_context = ssl_context
        self._loop_header = [(LOOP_HEADER.encode(), cdn_loop.encode("latin-1"))] if cdn_loop else []
        self._backend = _PinnedBackend()
        self._client: httpx.Client | None = None  # builds requests: default headers, URL encoding
        self._transport: _PinnedTransport | None = None
        self._fetches = 0
        self._closed = False

    def __enter__(self) -> FetchSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._client is not None:
            self._client.close()  # closes the transport and its connections
            self._client = None
            self._transport = None

    def fetch(self, request: object) -> dict[str, Any]:
        """Perform one guest fetch; the answer is a JSON-ready dict, never an exception."""
        if self._closed:
            raise RuntimeError("this FetchSession is closed")
        started = time.monotonic()
        try:
            return self._fetch(request, started)
        except FetchError as error:
            self._log("warn", f"fetch {error.code}: {error.message}")
            return {"ok": False, "error": {"code": error.code, "message": error.message}}

    def _fetch(self, request: object, started: float) -> dict[str, Any]:
        self._fetches += 1
        if self._fetches > self.limits.max_fetches:
            raise FetchLimitExceeded(f"too many fetches: at most {self.limits.max_fetches} per call")
        outgoing = _validate_request(request, self.limits)
        for name in outgoing.ignored_headers:
            self._log("debug", f"fetch: ignored request header {name!r} (set by the host)")
        if self.deadline - started <= 0:
            raise FetchTimeout(f"{outgoing.method} {outgoing.url} not started: the call's deadline has passed")
        fetch_deadline = min(started + self.limits.timeout_ms / 1000, self.deadline)
        self._backend.deadline = fetch_deadline
        try:
            answer, size = self._follow(outgoing, fetch_deadline)
        except TIMEOUT_ERRORS as error:
            bound = (
                "the call's deadline"
                if fetch_deadline == self.deadline
                else f"the per-fetch timeout of {self.limits.timeout_ms} ms"
            )
            elapsed_ms = round((time.monotonic() - started) * 1000)
            raise FetchTimeout(f"{outgoing.method} {outgoing.url} timed out after {elapsed_ms} ms ({bound})") from error
        except TRANSPORT_ERRORS as error:
            raise FetchFailed(f"{outgoing.method} {outgoing.url} failed: {error or type(error).__name__}") from error
        elapsed_ms = round((time.monotonic() - started) * 1000)
        summary = f"{answer['url']} -> {answer['status']} ({size} bytes, {elapsed_ms} ms)"
        self._log("info", f"fetch {outgoing.method} {summary}")
        return answer

    def _follow(self, outgoing: _Outgoing, fetch_deadline: float) -> tuple[dict[str, Any], int]:
        """The answer for the last hop, and its body size in bytes."""
        url, method, headers, body = outgoing.url, outgoing.method, outgoing.headers, outgoing.body
        resolver = _bounded_resolver(self._resolver, fetch_deadline)
        redirected_from = ""
        for hop in range(self.limits.max_redirects + 1):
            decision = decide(url, self.policy, resolver)
            if not decision.allowed:
                context = f" (redirected from {redirected_from})" if redirected_from else ""
                if decision.code == EGRESS_DENIED:
                    raise EgressDenied(decision.reason + context)
                raise FetchFailed(f"{method} {url}: {decision.reason}{context}")
            with self._send(decision, method, headers, body) as response:
                location = response.headers.get("location")
                if response.status_code not in REDIRECT_STATUSES or location is None or outgoing.redirect == "manual":
                    return self._answer(response, decision, redirected=hop > 0)
                if outgoing.redirect == "error":
                    raise RedirectError(
                        f"{decision.url} redirected ({response.status_code}) and redirect mode is 'error'"
                    )
                if hop == self.limits.max_redirects:
                    raise RedirectError(f"too many redirects: more than {self.limits.max_redirects}")
                next_url = _resolve_location(decision.url, location)
                if _switches_to_get(response.status_code, method):
                    method, body = "GET", None
                    headers = [(name, value) for name, value in headers if name not in BODY_HEADERS]
                if parse_url(next_url).origin != parse_url(decision.url).origin:
                    headers = [(name, value) for name, value in headers if name not in CROSS_ORIGIN_DROPPED_HEADERS]
                url, redirected_from = next_url, decision.url
        raise AssertionError("unreachable: the loop returns or raises")

    @contextmanager
    def _send(
        self, decision: EgressDecision, method: str, headers: list[tuple[str, bytes]], body: bytes | None
    ) -> Iterator[httpx.Response]:
        client = self._client or self._open_client()
        assert self._transport is not None
        url = httpx.URL(decision.url)
        self._backend.pin(url.raw_host.decode("ascii"), decision.port, decision.addresses)
        raw_headers = [(name.encode(), value) for name, value in headers] + self._loop_header
        request = client.build_request(method, url, headers=raw_headers, content=body)
        # Straight to our transport, not client.send: send() parses a Location header
        # itself (and fails on odd ones even when not following) and keeps cookies.
        response = self._transport.handle_request(request)
        response.request = request
        try:
            yield response
        finally:
            response.close()

    def _open_client(self) -> httpx.Client:
        self._transport = _PinnedTransport(self._backend, self._ssl_context or default_ssl_context())
        self._client = httpx.Client(
            transport=self._transport,
            trust_env=False,
            follow_redirects=False,
            timeout=None,  # the backend bounds every socket operation by the fetch's deadline
            headers={"user-agent": USER_AGENT, "accept": "*/*", "accept-encoding": "gzip, deflate"},
        )
        return self._client

    def _answer(
        self, response: httpx.Response, decision: EgressDecision, *, redirected: bool
    ) -> tuple[dict[str, Any], int]:
        body, decoded = self._read_body(response, decision.url)
        answer: dict[str, Any] = {
            "ok": True,
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "headers": _response_headers(response, decoded=decoded),
            "url": decision.url,
            "redirected": redirected,
        }
        try:
            answer["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            answer["body_base64"] = base64.b64encode(body).decode("ascii")
        return answer, len(body)

    def _read_body(self, response: httpx.Response, url: str) -> tuple[bytes, bool]:
        """The body, capped, decoded if gzip/deflate; and whether we decoded it."""
        cap = self.limits.max_response_bytes
        too_large = ResponseTooLarge(f"the response body from {url} is larger than {cap} bytes")
        decoder = _BoundedDecoder.for_encoding(response.headers.get("content-encoding", ""))
        declared = response.headers.get("content-length", "")
        if decoder is None and declared.isdigit() and int(declared) > cap:
            raise too_large
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                data = decoder.feed(chunk, cap - len(body)) if decoder else chunk
                if len(body) + len(data) > cap:
                    raise too_large
                body += data
            if decoder is not None:
                body += decoder.flush()
        except zlib.error as error:
            raise FetchFailed(f"could not decode the response body from {url}: {error}") from error
        if len(body) > cap:
            raise too_large
        return bytes(body), decoder is not None


# --- the guest's request ----------------------------------------------------


@dataclass(frozen=True)
class _Outgoing:
    url: str
    method: str
    headers: list[tuple[str, bytes]]  # lowercase names
    body: bytes | None
    redirect: str
    ignored_headers: tuple[str, ...]


def _validate_request(request: object, limits: FetchLimits) -> _Outgoing:
    if not isinstance(request, dict):
        raise FetchFailed("a fetch request must be a JSON object")
    url = request.get("url")
    if not isinstance(url, str) or not url:
        raise FetchFailed("a fetch request needs a \"url\" string")
    method = request.get("method") or "GET"
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise FetchFailed(f"invalid method {method!r}")
    if method.upper() in NORMALIZED_METHODS:
        method = method.upper()
    if method.upper() in FORBIDDEN_METHODS:
        raise FetchFailed(f"method {method} is not allowed")
    redirect = request.get("redirect") or "follow"
    if not isinstance(redirect, str) or redirect not in REDIRECT_MODES:
        raise FetchFailed(f"invalid redirect mode {redirect!r}: use follow, manual or error")

    raw_headers = request.get("headers") or []
    if not isinstance(raw_headers, list):
        raise FetchFailed("\"headers\" must be a list of [name, value] pairs")
    headers: list[tuple[str, bytes]] = []
    ignored: list[str] = []
    head_bytes = len(url.encode("utf-8", "surrogatepass"))
    for pair in raw_headers:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise FetchFailed(f"invalid header {pair!r}: expected [name, value] strings")
        if not _TOKEN.fullmatch(pair[0]):
            raise FetchFailed(f"invalid header name {pair[0]!r}")
        name, value = pair[0].lower(), pair[1].strip(" \t")
        if any((character < " " and character != "\t") or character == "\x7f" for character in value):
            raise FetchFailed(f"invalid value for header {name!r}: it contains control characters")
        try:
            value_bytes = value.encode("latin-1")
        except UnicodeEncodeError:
            raise FetchFailed(f"invalid value for header {name!r}: characters above U+00FF") from None
        head_bytes += len(name) + len(value_bytes)
        if name in IGNORED_REQUEST_HEADERS:
            ignored.append(name)
            continue
        headers.append((name, value_bytes))
    if head_bytes > limits.max_request_head_bytes:
        raise FetchLimitExceeded(f"the request's URL and headers are over {limits.max_request_head_bytes} bytes")

    body = _request_body(request, limits)
    if method in ("GET", "HEAD"):
        if body:
            raise FetchFailed(f"a {method} request cannot have a body")
        body = None
    if body is not None and request.get("body") is not None and "content-type" not in dict(headers):
        headers.append(("content-type", b"text/plain;charset=UTF-8"))  # what fetch() sets for a string body
    return _Outgoing(url, method, headers, body, redirect, tuple(ignored))


def _request_body(request: dict[str, Any], limits: FetchLimits) -> bytes | None:
    text, encoded = request.get("body"), request.get("body_base64")
    cap = limits.max_request_body_bytes
    too_large = FetchLimitExceeded(f"the request body is over {cap} bytes")
    if text is not None and encoded is not None:
        raise FetchFailed("give \"body\" or \"body_base64\", not both")
    if encoded is not None:
        if not isinstance(encoded, str):
            raise FetchFailed("\"body_base64\" must be a string")
        if len(encoded) > (cap + 2) // 3 * 4:
            raise too_large
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise FetchFailed("\"body_base64\" is not valid base64") from None
    elif text is not None:
        if not isinstance(text, str):
            raise FetchFailed("\"body\" must be a string or null")
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError:
            raise FetchFailed("\"body\" is not valid Unicode (lone surrogate)") from None
    else:
        return None
    if len(body) > cap:
        raise too_large
    return body


# --- redirects and responses ------------------------------------------------


def _switches_to_get(status: int, method: str) -> bool:
    return (status in (301, 302) and method == "POST") or (status == 303 and method not in ("GET", "HEAD"))


def _resolve_location(base: str, location: str) -> str:
    """The next URL; a backslash before the query counts as a slash, as in the WHATWG parser."""
    location = location.strip()
    cut = min((index for index in (location.find("?"), location.find("#")) if index >= 0), default=len(location))
    try:
        absolute = urljoin(base, location[:cut].replace("\\", "/") + location[cut:])
        target = parse_url(absolute)
    except (InvalidURL, ValueError) as error:  # ValueError: urljoin, e.g. an unclosed IPv6 bracket
        raise RedirectError(f"redirect to {location!r} is not a usable URL: {error}") from None
    if target.has_credentials:
        raise RedirectError(f"redirect to {location!r} carries credentials")
    return absolute


def _response_headers(response: httpx.Response, *, decoded: bool) -> list[list[str]]:
    named_in_connection = {
        token.strip().lower() for value in response.headers.get_list("connection") for token in value.split(",")
    }
    dropped = HOP_BY_HOP_RESPONSE_HEADERS | named_in_connection
    if decoded:
        dropped |= {"content-encoding", "content-length"}
    pairs = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in response.headers.raw]
    return [[name, value] for name, value in pairs if name not in dropped]


class _BoundedDecoder:
    """gzip/deflate decoding that never produces more than the caller has room for."""

    def __init__(self, wbits: int, raw_fallback: bool) -> None:
        self._decompressor = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback  # "deflate" is sometimes sent without the zlib header
        self._started = False

    @classmethod
    def for_encoding(cls, content_encoding: str) -> _BoundedDecoder | None:
        encoding = content_encoding.strip().lower()
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, raw_fallback=False)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS, raw_fallback=True)
        return None  # identity, or something we pass through undecoded (the header stays)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; past ``room`` bytes the output is cut at ``room + 1`` (over the cap)."""
        try:
            output = self._decompressor.decompress(data, room + 1)
        except zlib.error:
            if self._started or not self._raw_fallback:
                raise
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            output = self._decompressor.decompress(data, room + 1)
        self._started = True
        return output

    def flush(self) -> bytes:
        return self._decompressor.flush()


# --- connecting only where the policy said ----------------------------------


def _bounded_resolver(resolver: Resolver | None, deadline: float) -> Resolver:
    """Run DNS lookups on a helper thread and stop waiting at ``deadline`` (TimeoutError)."""
    lookup = resolver or resolve_with_getaddrinfo

    def resolve(host: str, port: int) -> list[str | IPAddress]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no time left to look up {host}")
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["addresses"] = list(lookup(host, port))
            except BaseException as error:  # handed to the waiting thread below
                outcome["error"] = error
            finally:
                done.set()

        # A daemon thread: a lookup that hangs is abandoned, it never blocks exit.
        threading.Thread(target=run, name="wasmtask-dns", daemon=True).start()
        if not done.wait(remaining):
            raise TimeoutError(f"DNS lookup of {host} did not finish in time")
        if "error" in outcome:
            raise outcome["error"]
        addresses: list[str | IPAddress] = outcome["addresses"]
        return addresses

    return resolve


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects only to addresses an egress decision checked, and only until ``deadline``."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._pins: dict[tuple[str, int], tuple[IPAddress, ...]] = {}
        self.deadline = 0.0  # time.monotonic() value; set per fetch by the session

    def pin(self, host: str, port: int, addresses: tuple[IPAddress, ...]) -> None:
        self._pins[(host, port)] = addresses

    def time_left(self, timeout: float | None, timeout_error: type[Exception]) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise timeout_error("the fetch's deadline has passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins.get((host, port))
        if not addresses:
            raise httpcore.ConnectError(f"{host}:{port} was not checked by the egress policy")
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    _socket_host(address),
                    port,
                    timeout=self.time_left(timeout, httpcore.ConnectTimeout),
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                failure = error  # try the next checked address
                continue
            return _DeadlineStream(stream, self)
        assert failure is not None
        raise failure

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from a guest")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _socket_host(address: IPAddress) -> str:
    return address.compressed if isinstance(address, ipaddress.IPv6Address) else str(address)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the backend's current deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: _PinnedBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = self._backend.time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedTransport(httpx.BaseTransport):
    """httpx over an httpcore pool whose network backend is ``_PinnedBackend``."""

    def __init__(self, backend: _PinnedBackend, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=backend, keepalive_expiry=5.0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_response = self._pool.handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()
