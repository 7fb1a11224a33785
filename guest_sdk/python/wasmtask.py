"""wasmtask Python SDK: write ``def handle(request)`` and return a JSON value or a Response.

    import wasmtask

    def handle(request: wasmtask.Request):
        name = request.query.get("name", "world")
        wasmtask.log.info(f"hello from Python, {name}")
        return {"hello": name}

Deployed as source (language "python"), the function is componentized with
componentize-py against ``wit/wasmtask.wit`` and runs as a WebAssembly
component (see README.md for the cost). Top-level code runs once, at deploy.
``print`` goes to the log stream; an exception ends the call with
``guest_error`` (its traceback in the error's ``stack``), a ``MemoryError``
with ``memory_limit``, a ``RecursionError`` with ``stack_overflow``.
"""

from __future__ import annotations

import base64
import json
import random
import sys
import traceback
from typing import Any, Callable

import wit_world

__all__ = ["FetchError", "FetchResponse", "Request", "Response", "StorageError", "fetch", "kv", "log", "storage"]

LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3}


class _Log:
    """``log.info("...")`` etc.: one line each on the tenant's log stream."""

    def write(self, level: str, message: str) -> None:
        wit_world.log(LEVELS.get(level, 1), str(message))

    def debug(self, message: str) -> None:
        self.write("debug", message)

    def info(self, message: str) -> None:
        self.write("info", message)

    def warn(self, message: str) -> None:
        self.write("warn", message)

    def error(self, message: str) -> None:
        self.write("error", message)


log = _Log()


class _LogStream:
    """sys.stdout / sys.stderr during a call: each line becomes a log record."""

    def __init__(self, level: str) -> None:
        self.level = level
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            log.write(self.level, line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            log.write(self.level, self.pending)
            self.pending = ""


class Request:
    """The request (guest_sdk/ABI.md "The request JSON")."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.method: str = data.get("method", "GET")
        self.url: str = data.get("url", "")
        self.path: str = data.get("path", "/")
        self.query: dict[str, str | list[str]] = data.get("query") or {}
        self.headers: dict[str, str] = data.get("headers") or {}
        self.secrets: dict[str, str] = data.get("secrets") or {}
        self.env: dict[str, str] = data.get("env") or {}
        self.meta: dict[str, Any] = data.get("meta") or {}
        self.request_id: str = data.get("request_id", "")
        if data.get("body_base64") is not None:
            self.body: bytes = base64.b64decode(data["body_base64"])
        else:
            self.body = (data.get("body") or "").encode("utf-8")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Response:
    """An HTTP response: ``Response("hi", status=200, headers={"content-type": "text/plain"})``."""

    def __init__(self, body: str | bytes = "", *, status: int = 200, headers: dict[str, str] | list[tuple[str, str]] | None = None) -> None:
        self.body = body
        self.status = status
        pairs = headers.items() if isinstance(headers, dict) else (headers or [])
        self.headers = [[str(name), str(value)] for name, value in pairs]

    @classmethod
    def json(cls, value: Any, *, status: int = 200) -> "Response":
        return cls(json.dumps(value), status=status, headers={"content-type": "application/json"})

    def to_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {"type": "response", "status": self.status, "headers": self.headers}
        body = self.body
        if isinstance(body, str):
            result["body"] = body
        else:
            try:
                result["body"] = bytes(body).decode("utf-8")
            except UnicodeDecodeError:
                result["body_base64"] = base64.b64encode(bytes(body)).decode("ascii")
        return result


class FetchError(Exception):
    """A fetch the host refused or could not complete: ``code`` is egress_denied, fetch_limit, ..."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FetchResponse:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.status: int = data.get("status", 0)
        self.status_text: str = data.get("statusText", "")
        self.headers: list[list[str]] = data.get("headers") or []
        self.url: str = data.get("url", "")
        if data.get("body_base64") is not None:
            self.content: bytes = base64.b64decode(data["body_base64"])
        else:
            self.content = (data.get("body") or "").encode("utf-8")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str | bytes | None = None, redirect: str = "follow") -> FetchResponse:
    """An HTTP request through the host (the egress policy applies). Raises FetchError."""
    request: dict[str, Any] = {"url": url, "method": method, "headers": [[k, v] for k, v in (headers or {}).items()], "redirect": redirect, "body": None}
    if isinstance(body, (bytes, bytearray)):
        request["body_base64"] = base64.b64encode(bytes(body)).decode("ascii")
    elif body is not None:
        request["body"] = body
    answer = json.loads(wit_world.fetch(json.dumps(request)))
    if not answer.get("ok"):
        error = answer.get("error") or {}
        raise FetchError(str(error.get("code", "fetch_failed")), str(error.get("message", "")))
    return FetchResponse(answer)


# ---- storage (ABI.md, "The storage JSON") ------------------------------------------------


class StorageError(Exception):
    """A storage or KV operation failed: ``code`` is storage_conflict, storage_quota_exceeded,
    storage_too_large, storage_invalid, storage_unavailable, ..."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _storage(request: dict[str, Any]) -> dict[str, Any]:
    answer = json.loads(wit_world.storage(json.dumps(request)))
    if not answer.get("ok"):
        error = answer.get("error") or {}
        raise StorageError(str(error.get("code", "storage_failed")), str(error.get("message", "")))
    return answer


class _Document:
    """The function's JSON document (webtask's ``ctx.storage``): ``get()``, then ``set(data)``, which
    raises ``StorageError("storage_conflict")`` when another call wrote since this call's get
    (unless ``force=True``)."""

    def __init__(self) -> None:
        self._version: int | None = None  # of this call's last get or set

    def get(self) -> Any:
        answer = _storage({"op": "storage.get"})
        self._version = answer["version"]
        return answer["data"]

    def set(self, data: Any, *, force: bool = False) -> None:
        request: dict[str, Any] = {"op": "storage.set", "data": data, "force": force}
        if not force and self._version is not None:
            request["version"] = self._version
        self._version = _storage(request)["version"]


class _KV:
    """The function's KV entries (Workers' ``env.KV``): string or bytes values, optional TTL."""

    def get(self, key: str, type: str = "text") -> Any:
        """The value (None when missing or expired) as ``text``, ``json`` or ``bytes``."""
        answer = _storage({"op": "kv.get", "key": key})
        if answer.get("value_base64") is not None:
            value: str | bytes = base64.b64decode(answer["value_base64"])
        elif answer.get("value") is None:
            return None
        else:
            value = answer["value"]
        if type == "bytes":
            return value.encode("utf-8") if isinstance(value, str) else value
        text = value if isinstance(value, str) else value.decode("utf-8")
        return json.loads(text) if type == "json" else text

    def put(self, key: str, value: str | bytes, *, expiration_ttl: int | None = None) -> None:
        request: dict[str, Any] = {"op": "kv.put", "key": key}
        if isinstance(value, (bytes, bytearray)):
            request["value_base64"] = base64.b64encode(bytes(value)).decode("ascii")
        else:
            request["value"] = value
        if expiration_ttl is not None:
            request["expiration_ttl"] = expiration_ttl
        _storage(request)

    def delete(self, key: str) -> None:
        _storage({"op": "kv.delete", "key": key})

    def list(self, prefix: str = "", limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """``{"keys": [{"name", "expiration"?}], "list_complete", "cursor"}``, in byte order."""
        request: dict[str, Any] = {"op": "kv.list", "prefix": prefix}
        if limit is not None:
            request["limit"] = limit
        if cursor:
            request["cursor"] = cursor
        answer = _storage(request)
        return {"keys": answer["keys"], "list_complete": answer["list_complete"], "cursor": answer["cursor"]}


storage = _Document()
kv = _KV()


# ---- the component side (used by app.py) ---------------------------------------------


_OUT_OF_MEMORY = '{"ok": false, "error": {"code": "memory_limit", "name": "MemoryError", "message": "the guest ran out of memory (memory limit)"}}'


def _error(code: str, error: BaseException) -> dict[str, Any]:
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__.tb_next if error.__traceback__ else None))
    return {"ok": False, "error": {"code": code, "name": type(error).__name__, "message": str(error), "stack": stack}}


def run(handler: Callable[[Request], Any], request_json: str) -> str:
    """Call ``handler`` with the request; the reply JSON of ABI.md."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _LogStream("info"), _LogStream("error")
    try:
        data = json.loads(request_json)
        if "seed" in data:  # the snapshot baked one PRNG state in: reseed per request
            random.seed(data["seed"])
        result = handler(Request(data))
        if isinstance(result, Response):
            reply: dict[str, Any] = {"ok": True, "result": result.to_result()}
        else:
            reply = {"ok": True, "result": {"type": "json", "value": result}}
        return json.dumps(reply)
    except MemoryError:
        return _OUT_OF_MEMORY
    except RecursionError as error:
        return json.dumps(_error("stack_overflow", error))
    except BaseException as error:  # SystemExit too: the call ends, the component does not exit
        return json.dumps(_error("guest_error", error))
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = stdout, stderr
