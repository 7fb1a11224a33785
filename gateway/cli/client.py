"""The CLI's HTTP side: one small httpx client for the gateway API, its errors, and whom it talks to as whom.

httpx (~100 ms to import) is imported when a client is made, not with this module:
``wasmtask deploy --help`` does not pay for it.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_CONTROL_URL = "http://127.0.0.1:8081"  # the control plane: tenants and tokens (gateway/control_plane.py)


class ApiError(Exception):
    """The gateway answered with an error envelope: its code, message, status and details."""

    def __init__(self, message: str, *, code: str = "", status: int = 0, request_id: str = "",
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details or {}

    def __str__(self) -> str:
        where = f" (HTTP {self.status}, request {self.request_id})" if self.status else ""
        return f"{self.code + ': ' if self.code else ''}{self.message}{where}"

    def envelope(self) -> dict[str, Any]:
        """The error as the gateway's envelope (what ``--json`` prints)."""
        return {"error": {"code": self.code or "unreachable", "message": self.message,
                          **({"status": self.status} if self.status else {}),
                          **({"request_id": self.request_id} if self.request_id else {}), **self.details}}


class GatewayUnreachable(ApiError):
    """No answer at all: refused, timed out, a name that does not resolve."""


def path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def tenant_of_token(token: str | None) -> str | None:
    """The tenant a tenant token was issued for (its ``ten`` claim), read without verifying it:
    only to pick a default ``--tenant``; the gateway verifies the token."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    tenant = claims.get("ten") if isinstance(claims, dict) else None
    return tenant if isinstance(tenant, str) else None


@dataclass(frozen=True)
class Connection:
    """Where the gateway is and the credentials to send: flags first, then WASMTASK_* variables."""

    url: str
    token: str | None
    admin_key: str | None
    control_url: str = DEFAULT_CONTROL_URL  # WASMTASK_CONTROL_URL

    @classmethod
    def resolve(cls, url: str | None, token: str | None, admin_key: str | None) -> Connection:
        env = os.environ
        return cls(
            url=(url or env.get("WASMTASK_URL") or DEFAULT_URL).rstrip("/"),
            token=(token or env.get("WASMTASK_TOKEN") or "").strip() or None,
            admin_key=(admin_key or env.get("WASMTASK_ADMIN_KEY") or "").strip() or None,
            control_url=(env.get("WASMTASK_CONTROL_URL") or DEFAULT_CONTROL_URL).rstrip("/"),
        )

    def client(self, *, admin: bool = False, timeout: float = 120.0) -> ApiClient:
        """A client that sends the admin key (``admin``) or the token (else the admin key)."""
        credential = self.admin_key if admin else (self.token or self.admin_key)
        return ApiClient(self.url, credential, timeout=timeout)

    def control_client(self, *, admin: bool = False, timeout: float = 30.0) -> ApiClient:
        """A client of the control plane (tenants, tokens), with the credentials ``client`` would send."""
        credential = self.admin_key if admin else (self.token or self.admin_key)
        return ApiClient(self.control_url, credential, timeout=timeout)


class ApiClient:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 120.0) -> None:
        import httpx  # here, not at the top: start-up time

        self.url = (url or os.environ.get("WASMTASK_URL") or DEFAULT_URL).rstrip("/")
        self.token = token
        self.http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        import httpx

        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and not any(name.lower() == "authorization" for name in headers):
            headers["authorization"] = f"Bearer {self.token}"
        try:
            return self.http.request(method, url, headers=headers, **kwargs)
        except (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            from gateway.cli.errors import UsageProblem

            raise UsageProblem(f"cannot send a request to {self.url}: {exc} (check --url, the token and the "
                               "headers)", code="invalid_request") from exc
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise GatewayUnreachable(f"cannot reach the gateway at {self.url}: {reason}") from exc

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON of a successful answer; ``ApiError`` for an error envelope."""
        return raise_for_error(self.send(method, url, **kwargs)).json()


def raise_for_error(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    try:
        error = dict(orjson.loads(response.content)["error"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ApiError(response.text[:500] or response.reason_phrase, status=response.status_code) from None
    details = {key: value for key, value in error.items() if key not in ("code", "message", "request_id")}
    raise ApiError(str(error.get("message", "")), code=str(error.get("code", "")), status=response.status_code,
                   request_id=str(error.get("request_id", "")), details=details)
