"""The gateway's errors: one tree, and the ONE table mapping every error code to an HTTP status.

    CodedError (host_api.errors)
    ├── IsolateError and its tree (isolates/errors.py): what a call or a deploy ends with
    └── GatewayError                    internal_error
        ├── InvalidRequest              invalid_request
        ├── Unauthorized                unauthorized
        │   ├── TokenRevoked            token_revoked
        │   └── TokenReissueRequired    token_reissue_required
        ├── Forbidden                   forbidden
        ├── NotFound                    not_found
        ├── MethodNotAllowed            method_not_allowed
        ├── Conflict                    conflict
        ├── PayloadTooLarge             payload_too_large
        ├── UnsupportedMediaType        unsupported_media_type
        ├── RateLimited                 rate_limited
        ├── ConcurrencyLimited          concurrency_limit
        ├── QueueFull                   queue_full
        ├── StorageQuotaExceeded        storage_quota_exceeded
        ├── TooManyLogStreams           too_many_log_streams
        ├── RuntimeUnavailable          runtime_unavailable
        ├── RegistryUnavailable         registry_unavailable
        ├── LoopDetected                loop_detected
        ├── ControlPlaneRoute           control_plane_route
        └── InternalError               internal_error

Every failure the gateway answers is the envelope
``{"error": {"code", "message", "request_id"}}`` with the status below, rendered
in one place (gateway/app.py, for any ``CodedError``). "No isolate slot" is
``isolates.Overloaded`` whichever layer finds it (the pool or the admission queue).
"""

from __future__ import annotations

from typing import Any

from host_api.errors import CodedError

# code -> HTTP status. Choices worth a note:
#   cpu_limit 508    "Loop Detected": the guest burned its whole fuel budget; distinct
#                    from 429 so clients do not retry a call that will always fail.
#   memory_limit 507 "Insufficient Storage": the guest hit its memory cap.
#   storage_quota_exceeded 507  the tenant's KV quota (keys or bytes, gateway/storage) is used up.
#   storage_full 507 "Insufficient Storage": no room on the server's disk for a deploy's
#                    prepared program; the previous version keeps serving.
#   output_limit 502 the function (the "upstream") produced a response over its cap.
#   concurrency_limit 429  the tenant has too many calls in flight (retry soon).
#   queue_full 429   the tenant has as many async jobs queued or running as it may (gateway/jobs).
#   too_many_log_streams 429  the tenant has as many live-log streams open as it may (retry once one ends).
#   overloaded 503   the whole server has no isolate slot free within the queue time
#                    (answered with Retry-After: 1).
#   guest_error 500  like webtask: the user's code threw or called back an error.
#   invalid_response 502  the function's response is not valid HTTP (status, headers, a body
#                    on a 204/304); the function is the upstream that answered badly.
#   loop_detected 508  "Loop Detected" (RFC 5842): the request passed through too many
#                    wasmtask functions calling each other (gateway/calls/cdn_loop.py).
#   language_unavailable 503  this server has no toolchain for the function's language (C, Zig,
#                    Rust, AssemblyScript, Python): the message names what to install. 503,
#                    not 501: the API implements the language; this server cannot build it now.
#   control_plane_route 421  "Misdirected Request": tenants and tokens are managed on the control
#                    plane's own listener (gateway/control_plane.py), never where guest code runs.
#   registry_unavailable 503  the registry's database (PostgreSQL, or a SQLite file locked
#                    too long) did not answer in time; deployed functions cached in memory
#                    are still served.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 400,
    "invalid_code": 400,
    "unauthorized": 401,
    "token_revoked": 401,
    "token_reissue_required": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "control_plane_route": 421,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "concurrency_limit": 429,
    "queue_full": 429,
    "too_many_log_streams": 429,
    "internal_error": 500,
    "guest_error": 500,
    "stack_overflow": 500,
    "output_limit": 502,
    "invalid_response": 502,
    "overloaded": 503,
    "runtime_unavailable": 503,
    "language_unavailable": 503,
    "registry_unavailable": 503,
    "timeout": 504,
    "memory_limit": 507,
    "storage_full": 507,
    "storage_quota_exceeded": 507,
    "cpu_limit": 508,
    "loop_detected": 508,
}


def status_for(code: str) -> int:
    """The HTTP status of an error code; unknown codes are internal errors."""
    return STATUS_BY_CODE.get(code, 500)


class GatewayError(CodedError):
    """Base of every error the gateway answers with; ``code`` picks the status."""

    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.details = details

    @property
    def status(self) -> int:
        return status_for(self.code)


class InvalidRequest(GatewayError):
    """The request is malformed: bad JSON, a bad name, an unknown field."""

    code = "invalid_request"


class Unauthorized(GatewayError):
    """No credentials, or credentials that do not verify (bad signature, expired, alg none)."""

    code = "unauthorized"


class TokenRevoked(Unauthorized):
    """A token that verifies but was revoked (``POST /api/tokens/revoke``)."""

    code = "token_revoked"


class TokenReissueRequired(Unauthorized):
    """An HS256 token of an earlier wasmtask: tokens are Ed25519-signed now (gateway/identity/tokens.py)."""

    code = "token_reissue_required"


class ControlPlaneRoute(GatewayError):
    """A tenant or token route sent to a serving listener: it is on the control plane's."""

    code = "control_plane_route"


class Forbidden(GatewayError):
    """Valid credentials that do not cover this tenant or scope."""

    code = "forbidden"


class NotFound(GatewayError):
    """No such route, tenant, function or version."""

    code = "not_found"


class MethodNotAllowed(GatewayError):
    """The route exists but not for this method."""

    code = "method_not_allowed"


class Conflict(GatewayError):
    """The thing to create exists already."""

    code = "conflict"


class PayloadTooLarge(GatewayError):
    """The request body is over the cap."""

    code = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    """A body in a content type this route does not take."""

    code = "unsupported_media_type"


class RateLimited(GatewayError):
    """The tenant's token bucket is empty."""

    code = "rate_limited"


class ConcurrencyLimited(GatewayError):
    """The tenant has too many calls in flight and its queue is full or its wait ran out."""

    code = "concurrency_limit"


class StorageQuotaExceeded(GatewayError):
    """A KV write over the tenant's quota of keys or bytes (gateway/storage; WASMTASK_KV_MAX_KEYS and
    WASMTASK_KV_MAX_BYTES)."""

    code = "storage_quota_exceeded"


class QueueFull(GatewayError):
    """The tenant has as many async jobs queued or running as it may (gateway/jobs)."""

    code = "queue_full"


class TooManyLogStreams(GatewayError):
    """The tenant already has ``LogStreamLimits.subscribers_per_tenant`` live-log streams open."""

    code = "too_many_log_streams"

    def __init__(self, tenant: str, limit: int) -> None:
        super().__init__(f"tenant {tenant!r} already has {limit} open log streams")
        self.tenant = tenant
        self.limit = limit


class StorageFull(GatewayError):
    """The server's disk has no room for a deploy's prepared program (gateway/artifacts.py); the
    function's previous version keeps serving."""

    code = "storage_full"


class RuntimeUnavailable(GatewayError):
    """The JS runtime (jsrt.wasm) is not built or failed to load."""

    code = "runtime_unavailable"


class RegistryUnavailable(GatewayError):
    """The registry's database is unreachable or did not answer in time (gateway/registry)."""

    code = "registry_unavailable"


class LoopDetected(GatewayError):
    """The request already passed through the most wasmtask functions a chain may have."""

    code = "loop_detected"


class InternalError(GatewayError):
    """A bug: logged with its traceback, answered without one."""

    code = "internal_error"


GATEWAY_ERRORS: tuple[type[GatewayError], ...] = (
    InvalidRequest,
    Unauthorized,
    TokenRevoked,
    TokenReissueRequired,
    ControlPlaneRoute,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    ConcurrencyLimited,
    QueueFull,
    TooManyLogStreams,
    StorageFull,
    StorageQuotaExceeded,
    RuntimeUnavailable,
    RegistryUnavailable,
    LoopDetected,
    InternalError,
)


def envelope(code: str, message: str, request_id: str, **details: Any) -> dict[str, Any]:
    """The one error body: ``{"error": {"code", "message", "request_id", ...}}``."""
    return {"error": {"code": code, "message": message, "request_id": request_id, **details}}
