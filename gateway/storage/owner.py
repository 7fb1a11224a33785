"""The owner's operations on a function's storage (gateway/routes/storage.py, ``wasmtask storage``/``kv``).

The same checks as a guest's (host_api.storage: the 500 KB document, key and value
caps, TTLs), and the same backend; ``StorageError``s become the gateway's errors here,
once: a conflict ``conflict`` (409), a cap ``payload_too_large`` (413), a quota
``storage_quota_exceeded`` (507), a bad key or TTL ``invalid_request`` (400).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from gateway.errors import (
    Conflict,
    GatewayError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RegistryUnavailable,
    StorageQuotaExceeded,
)
from gateway.storage.backend import RegistryStorage
from host_api import errors as storage_errors
from host_api.storage import (
    LIMITS,
    Document,
    KVEntry,
    KVPage,
    StorageScope,
    check_document,
    check_key,
    check_value,
    expiry,
)

GATEWAY_ERROR: dict[type[storage_errors.StorageError], Callable[[str], GatewayError]] = {
    storage_errors.StorageConflict: Conflict,
    storage_errors.StorageTooLarge: PayloadTooLarge,
    storage_errors.StorageQuotaExceeded: StorageQuotaExceeded,
    storage_errors.StorageInvalid: InvalidRequest,
    storage_errors.StorageUnavailable: NotFound,  # the function went away meanwhile
}


@contextmanager
def mapped_errors() -> Iterator[None]:
    try:
        yield
    except storage_errors.StorageError as exc:
        raise GATEWAY_ERROR.get(type(exc), RegistryUnavailable)(exc.message) from None


class OwnerStorage:
    """A tenant owner's view of its functions' storage; every method is blocking (run it on a thread)."""

    def __init__(self, backend: RegistryStorage, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.clock = clock

    def _scope(self, tenant: str, function: str) -> StorageScope:
        if not self.backend.function_exists(tenant, function):
            raise NotFound(f"no function {function!r} in tenant {tenant!r}")
        return StorageScope(tenant, function)

    def get_document(self, tenant: str, function: str) -> dict[str, Any]:
        document = self.backend.read_document(self._scope(tenant, function))
        if document is None:
            return {"data": None, "version": 0}
        return {"data": orjson.loads(document.data), "version": document.version}

    def put_document(self, tenant: str, function: str, data: Any, based_on: int | None) -> Document:
        scope = self._scope(tenant, function)
        encoded = orjson.dumps(data)
        with mapped_errors():
            check_document(encoded)
            return self.backend.write_document(scope, encoded, based_on)

    def kv_get(self, tenant: str, function: str, key: str) -> KVEntry | None:
        scope = self._scope(tenant, function)
        with mapped_errors():
            return self.backend.kv_read(scope, check_key(key), self.clock())

    def kv_put(self, tenant: str, function: str, key: str, value: bytes, *, is_text: bool,
               expiration_ttl: float | None = None) -> None:
        scope = self._scope(tenant, function)
        now = self.clock()
        with mapped_errors():
            check_key(key)
            check_value(value)
            expires_at = expiry({"expiration_ttl": expiration_ttl}, now)
            self.backend.kv_write(scope, key, KVEntry(value, is_text, expires_at), now)

    def kv_delete(self, tenant: str, function: str, key: str) -> None:
        scope = self._scope(tenant, function)
        with mapped_errors():
            self.backend.kv_delete(scope, check_key(key))

    def kv_list(self, tenant: str, function: str, prefix: str, limit: int | None, cursor: str | None) -> KVPage:
        scope = self._scope(tenant, function)
        if limit is not None and not 1 <= limit <= LIMITS.list_keys:
            raise InvalidRequest(f"limit is a whole number from 1 to {LIMITS.list_keys}")
        with mapped_errors():
            return self.backend.kv_list(scope, prefix, limit or LIMITS.list_keys, cursor, self.clock())
