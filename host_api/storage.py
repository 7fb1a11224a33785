"""Function storage for guests: webtask's JSON document and a Workers-style KV, per function.

Each deployed function (per tenant) has

- one *document*: a JSON value of at most ``StorageLimits.document_bytes`` (500 KB, as
  webtask), with a version that grows by one per write. A write names the version it was
  based on and fails with ``storage_conflict`` when the document moved on since (optimistic
  concurrency); a forced write does not check.
- a *KV namespace*: keys (UTF-8, at most ``key_bytes``) to string or bytes values (at most
  ``value_bytes``), each with an optional expiry; listed in key order by prefix, a page at a
  time. The tenant's quotas (keys, bytes over all its functions) are the backend's business
  (gateway/storage/): an over-quota write fails with ``storage_quota_exceeded``.

Nothing here knows where the data lives: a ``StorageBackend`` (the gateway's, on the
registry's SQLite or PostgreSQL) does. ``FunctionStorage`` is one call's binding of a
backend to its ``StorageScope`` (tenant, function) and is the only way a guest reaches it, so
a guest can only ever name keys of its own function.

The guest's side of the wire (guest_sdk/ABI.md, "The storage JSON") is one JSON request
per operation, ``{"op": ..., ...}``, answered by ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code", "message"}}`` (host_api/errors.py, ``StorageError``).

Each operation is priced before it runs (``FUEL_PER_OPERATION`` plus ``FUEL_PER_BYTE`` for
every byte it carries in) and again for the bytes it carries out, and the price comes out of
the call's fuel; the database's own time counts against the call's wall-clock deadline.
Prices are host time at about 10 fuel per ns (host_api/crypto.py, ``FUEL_PER_HOST_NS``): on
SQLite here a document read takes ~7 us, a write ~30 us, a KV put ~45 us; on PostgreSQL
90 to 900 us, mostly waiting on the server (``python -m benches.storage``).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import orjson

from host_api.errors import StorageInvalid, StorageTooLarge

FUEL_PER_OPERATION: Final = 200_000  # the host call, the JSON and one database round trip (~20 us)
FUEL_PER_BYTE: Final = 10  # copying, encoding and storing one byte (~1 ns)

Charge = Callable[[int], None]  # takes fuel from the call; raises to refuse


@dataclass(frozen=True)
class StorageLimits:
    """Size caps, in bytes (UTF-8 for keys), and list page sizes, in keys."""

    document_bytes: int = 500 * 1024
    key_bytes: int = 512
    value_bytes: int = 1024 * 1024
    list_keys: int = 1000
    min_expiration_ttl_s: int = 60  # as Workers KV: a shorter TTL is refused


LIMITS: Final = StorageLimits()


@dataclass(frozen=True)
class StorageScope:
    """Whose storage: one function of one tenant."""

    tenant: str
    function: str


@dataclass(frozen=True)
class Document:
    """A function's document: its JSON text and its version (1 after the first write)."""

    data: bytes
    version: int


@dataclass(frozen=True)
class KVEntry:
    """A KV value: its bytes, whether it was stored as a string, and when it expires (Unix s)."""

    value: bytes
    is_text: bool
    expires_at: float | None = None


@dataclass(frozen=True)
class KVKey:
    name: str
    expires_at: float | None = None


@dataclass(frozen=True)
class KVPage:
    """One page of a listing; ``cursor`` resumes it (None: this was the last page)."""

    keys: list[KVKey]
    cursor: str | None


class StorageBackend(Protocol):
    """Where storage lives (gateway/storage/backend.py: the registry's database). ``now`` is
    Unix seconds: an expired KV entry is never returned, counted or listed."""

    def read_document(self, scope: StorageScope) -> Document | None: ...

    def write_document(self, scope: StorageScope, data: bytes, based_on: int | None) -> Document:
        """Store ``data`` as the next version; ``StorageConflict`` unless the current version is
        ``based_on`` (0: no document yet). ``based_on`` None writes whatever is there."""
        ...

    def kv_read(self, scope: StorageScope, key: str, now: float) -> KVEntry | None: ...

    def kv_write(self, scope: StorageScope, key: str, entry: KVEntry, now: float) -> None:
        """``StorageQuotaExceeded`` when the tenant's quota would be exceeded."""
        ...

    def kv_delete(self, scope: StorageScope, key: str) -> None: ...

    def kv_list(self, scope: StorageScope, prefix: str, limit: int, cursor: str | None, now: float) -> KVPage: ...


def check_document(data: bytes, limits: StorageLimits = LIMITS) -> None:
    if len(data) > limits.document_bytes:
        raise StorageTooLarge(f"the document is {len(data)} bytes; at most {limits.document_bytes} bytes may be stored")


def check_key(key: object, limits: StorageLimits = LIMITS) -> str:
    if not isinstance(key, str) or not key:
        raise StorageInvalid("a KV key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > limits.key_bytes:
        raise StorageTooLarge(f"a KV key may have at most {limits.key_bytes} bytes")
    return key


def check_value(value: bytes, limits: StorageLimits = LIMITS) -> None:
    if len(value) > limits.value_bytes:
        raise StorageTooLarge(f"the value is {len(value)} bytes; a KV value may have at most {limits.value_bytes}")


def expiry(request: dict[str, Any], now: float, limits: StorageLimits = LIMITS) -> float | None:
    """The absolute expiry a put asks for (``expiration_ttl`` seconds, or ``expiration`` Unix seconds)."""
    ttl, absolute = request.get("expiration_ttl"), request.get("expiration")
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl < limits.min_expiration_ttl_s:
            raise StorageInvalid(f"expirationTtl must be a number of seconds, at least {limits.min_expiration_ttl_s}")
        return now + float(ttl)
    if absolute is not None:
        if isinstance(absolute, bool) or not isinstance(absolute, (int, float)) or \
                absolute < now + limits.min_expiration_ttl_s:
            raise StorageInvalid(f"expiration must be Unix seconds at least {limits.min_expiration_ttl_s} s from now")
        return float(absolute)
    return None


def entry_value(request: dict[str, Any]) -> tuple[bytes, bool]:
    """A put's value: ``value`` (a string) or ``value_base64`` (bytes)."""
    if isinstance(request.get("value"), str):
        return request["value"].encode("utf-8", "surrogatepass"), True
    if isinstance(request.get("value_base64"), str):
        try:
            return base64.b64decode(request["value_base64"], validate=True), False
        except binascii.Error:
            raise StorageInvalid("value_base64 is not valid base64") from None
    raise StorageInvalid("a KV put needs a string `value` or a base64 `value_base64`")


def encoded_value(entry: KVEntry) -> dict[str, Any]:
    if entry.is_text:
        return {"value": entry.value.decode("utf-8", "surrogatepass")}
    return {"value_base64": base64.b64encode(entry.value).decode("ascii")}


def key_record(key: KVKey) -> dict[str, Any]:
    return {"name": key.name} if key.expires_at is None else {"name": key.name, "expiration": int(key.expires_at)}


class FunctionStorage:
    """A function's storage: ``backend`` bound to ``scope``, for its calls. It keeps no state of a
    call, so one serves every call of the function. ``clock`` is Unix seconds (tests inject one).

    ``deferring`` (``on_the_loop()``): for calls run where they must not block; an operation is
    refused before it reaches the backend and sets ``deferred``, for good (the caller then runs
    the call elsewhere, and this function's later calls too: isolates/capabilities/storage.py)."""

    def __init__(self, backend: StorageBackend, scope: StorageScope, *, limits: StorageLimits = LIMITS,
                 clock: Callable[[], float] = time.time, deferring: bool = False) -> None:
        self.backend = backend
        self.scope = scope
        self.limits = limits
        self.clock = clock
        self.deferring = deferring
        self.deferred = False
        self._on_the_loop: FunctionStorage | None = None

    def on_the_loop(self) -> FunctionStorage:
        """This storage for calls on the event loop: ``deferring`` (made once, then the same)."""
        if self._on_the_loop is None:
            self._on_the_loop = FunctionStorage(self.backend, self.scope, limits=self.limits, clock=self.clock,
                                                deferring=True)
        return self._on_the_loop

    def perform(self, request_json: bytes, charge: Charge) -> bytes:
        """Answer one JSON request (guest_sdk/ABI.md, "The storage JSON") with the ``ok`` answer's
        JSON; raises ``StorageError`` (or whatever ``charge`` and the backend raise)."""
        charge(FUEL_PER_OPERATION + FUEL_PER_BYTE * len(request_json))
        try:
            request = orjson.loads(request_json)
        except orjson.JSONDecodeError:
            raise StorageInvalid("a storage request must be JSON") from None
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            raise StorageInvalid("a storage request is a JSON object with an `op`")
        operation = OPERATIONS.get(request["op"])
        if operation is None:
            raise StorageInvalid(f"unknown storage operation {request['op']!r}; one of {', '.join(OPERATIONS)}")
        answer = operation(self, request)
        charge(FUEL_PER_BYTE * len(answer))
        return answer

    def document_get(self, _request: dict[str, Any]) -> bytes:
        document = self.backend.read_document(self.scope)
        if document is None:
            return b'{"ok":true,"data":null,"version":0}'
        # the stored text is spliced in as it is: no parse and re-encode of up to 500 KB
        return b'{"ok":true,"version":%d,"data":%s}' % (document.version, document.data)

    def document_set(self, request: dict[str, Any]) -> bytes:
        if "data" not in request:
            raise StorageInvalid("storage.set needs `data`")
        based_on = request.get("version")
        if request.get("force") is True:
            based_on = None
        elif based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int) or based_on < 0):
            raise StorageInvalid("`version` must be the version a storage.get answered")
        data = orjson.dumps(request["data"])
        check_document(data, self.limits)
        document = self.backend.write_document(self.scope, data, based_on)
        return b'{"ok":true,"version":%d}' % document.version

    def kv_get(self, request: dict[str, Any]) -> bytes:
        entry = self.backend.kv_read(self.scope, check_key(request.get("key"), self.limits), self.clock())
        if entry is None:
            return b'{"ok":true,"value":null}'
        return orjson.dumps({"ok": True, **encoded_value(entry)})

    def kv_put(self, request: dict[str, Any]) -> bytes:
        key = check_key(request.get("key"), self.limits)
        value, is_text = entry_value(request)
        check_value(value, self.limits)
        now = self.clock()
        self.backend.kv_write(self.scope, key, KVEntry(value, is_text, expiry(request, now, self.limits)), now)
        return b'{"ok":true}'

    def kv_delete(self, request: dict[str, Any]) -> bytes:
        self.backend.kv_delete(self.scope, check_key(request.get("key"), self.limits))
        return b'{"ok":true}'

    def kv_list(self, request: dict[str, Any]) -> bytes:
        prefix, limit, cursor = request.get("prefix") or "", request.get("limit"), request.get("cursor") or None
        if not isinstance(prefix, str) or (cursor is not None and not isinstance(cursor, str)):
            raise StorageInvalid("list: `prefix` and `cursor` are strings")
        if limit is None:
            limit = self.limits.list_keys
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= self.limits.list_keys:
            raise StorageInvalid(f"list: `limit` is a whole number from 1 to {self.limits.list_keys}")
        page = self.backend.kv_list(self.scope, prefix, limit, cursor, self.clock())
        return orjson.dumps({"ok": True, "keys": [key_record(k) for k in page.keys],
                             "list_complete": page.cursor is None, "cursor": page.cursor or ""})


OPERATIONS: Final[dict[str, Callable[[FunctionStorage, dict[str, Any]], bytes]]] = {
    "storage.get": FunctionStorage.document_get,
    "storage.set": FunctionStorage.document_set,
    "kv.get": FunctionStorage.kv_get,
    "kv.put": FunctionStorage.kv_put,
    "kv.delete": FunctionStorage.kv_delete,
    "kv.list": FunctionStorage.kv_list,
}

__all__ = ["FUEL_PER_BYTE", "FUEL_PER_OPERATION", "LIMITS", "OPERATIONS", "Document", "FunctionStorage", "KVEntry",
           "KVKey", "KVPage", "StorageBackend", "StorageLimits", "StorageScope", "check_document", "check_key",
           "check_value", "encoded_value", "expiry", "key_record"]
