"""The host_api error hierarchy: one root, one stable ``code`` per kind.

``CodedError`` is the shared base of every layer's root (``HostApiError`` here,
``isolates.IsolateError``, ``gateway.errors.GatewayError``): a message and a
stable code, nothing else. Each layer draws its own tree below it.

    CodedError
    └── HostApiError
        ├── FetchError                      fetch_failed
        │   ├── EgressDenied                egress_denied
        │   ├── FetchLimitExceeded          fetch_limit
        │   ├── ResponseTooLarge            response_too_large
        │   ├── FetchTimeout                timeout
        │   ├── FetchFailed                 fetch_failed
        │   │   └── InvalidURL
        │   └── RedirectError               redirect_error
        └── StorageError                    storage_failed
            ├── StorageConflict             storage_conflict
            ├── StorageTooLarge             storage_too_large
            ├── StorageQuotaExceeded        storage_quota_exceeded
            ├── StorageInvalid              storage_invalid
            └── StorageUnavailable          storage_unavailable

A guest never sees these as exceptions. ``FetchSession.fetch`` (and, for storage,
``FunctionStorage.perform``'s caller, isolates/capabilities/storage.py) maps them, in
one place, to ``{"ok": false, "error": {"code": ..., "message": ...}}``; the
codes below are what a guest (and the tenant's logs) see.
"""

from __future__ import annotations

from typing import ClassVar


class CodedError(Exception):
    """An error with a stable ``code`` (what clients and guests branch on) and a message."""

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class HostApiError(CodedError):
    """Base of every error host_api raises on behalf of a guest."""

    code: ClassVar[str] = "host_api_error"


class FetchError(HostApiError):
    """A guest's fetch did not produce a response."""

    code: ClassVar[str] = "fetch_failed"


class EgressDenied(FetchError):
    """The egress policy does not let the function reach that URL."""

    code: ClassVar[str] = "egress_denied"


class FetchLimitExceeded(FetchError):
    """Too many fetches in this call, or a request body or head over its cap."""

    code: ClassVar[str] = "fetch_limit"


class ResponseTooLarge(FetchError):
    """The response body (after decoding) is over the cap; reading stopped there."""

    code: ClassVar[str] = "response_too_large"


class FetchTimeout(FetchError):
    """The per-fetch timeout or the call's deadline was reached."""

    code: ClassVar[str] = "timeout"


class FetchFailed(FetchError):
    """A network, DNS, TLS or protocol failure, or an invalid request."""

    code: ClassVar[str] = "fetch_failed"


class InvalidURL(FetchFailed):
    """The URL is not an absolute http(s) URL we can parse."""


class RedirectError(FetchError):
    """A redirect was not allowed (mode "error"), too many, or to a bad URL."""

    code: ClassVar[str] = "redirect_error"


# Every code a guest may receive from fetch; a meta-test keeps this honest.
FETCH_ERROR_CODES: frozenset[str] = frozenset(
    {"egress_denied", "fetch_limit", "response_too_large", "timeout", "fetch_failed", "redirect_error"}
)


class StorageError(HostApiError):
    """A guest's storage or KV operation failed (host_api/storage.py)."""

    code: ClassVar[str] = "storage_failed"


class StorageConflict(StorageError):
    """``ctx.storage.set`` based on a stale read: the document changed since (retry, or ``force``)."""

    code: ClassVar[str] = "storage_conflict"


class StorageTooLarge(StorageError):
    """A document, key or value over its size cap (``StorageLimits``)."""

    code: ClassVar[str] = "storage_too_large"


class StorageQuotaExceeded(StorageError):
    """The tenant's KV quota (keys or bytes) would be exceeded by this write."""

    code: ClassVar[str] = "storage_quota_exceeded"


class StorageInvalid(StorageError):
    """A malformed storage request: an unknown operation, a bad key, TTL or value."""

    code: ClassVar[str] = "storage_invalid"


class StorageUnavailable(StorageError):
    """No storage for this call (an ad-hoc run, a deploy's init), or its database did not answer."""

    code: ClassVar[str] = "storage_unavailable"


# Every code a guest may receive from storage and KV operations.
STORAGE_ERROR_CODES: frozenset[str] = frozenset(
    {"storage_failed", "storage_conflict", "storage_too_large", "storage_quota_exceeded", "storage_invalid",
     "storage_unavailable", "cpu_limit"}
)
