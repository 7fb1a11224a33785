"""Tenant tokens: HS256 JWTs (webtask tokens are the model) carrying tenant, scopes, expiry, limits.

Verification pins ``algorithms=["HS256"]`` and requires ``exp``, so ``alg: none``,
other algorithms, wrong signatures and expired tokens all fail as ``Unauthorized``.

A token names its tenant twice: ``ten`` (the name, checked before the tenant is
looked up, so a foreign token learns nothing) and ``tid`` (the tenant's
identity, a random id the registry gives each tenant at creation). A token is
valid only for the tenant it was issued for: delete ``t`` and create a new
``t``, and the old tokens fail (``auth.check_tenant``). Tokens issued
before ``tid`` existed carry none; they are held to their ``iat``, which must
not be older than the tenant.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.deploy_spec import parse_limits
from gateway.errors import InvalidRequest, Unauthorized
from gateway.names import check_name
from isolates.limits import UNBOUNDED, Limits

ALGORITHM = "HS256"
ISSUER = "wasmtask"
SCOPES = ("run", "deploy", "logs")
DEFAULT_TTL_SECONDS = 24 * 3600
MAX_TTL_SECONDS = 366 * 24 * 3600


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token grants. ``limits`` (optional) caps every call made with the token."""

    tenant: str
    scopes: frozenset[str]
    expires_at: int
    token_id: str
    limits: Limits | None = None
    tenant_id: str | None = None  # None: a token from before tenant ids (see the module docstring)
    issued_at: int = 0


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidRequest(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {list(scopes)!r}")
    return sorted(set(scopes))


def issue(
    secret: str,
    tenant: str,
    scopes: list[str] | tuple[str, ...],
    *,
    tenant_id: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    limits: dict[str, Any] | None = None,
    now: float | None = None,
) -> tuple[str, TokenClaims]:
    """A signed token and its claims."""
    check_name(tenant, "tenant name")
    scopes = check_scopes(scopes)
    if not isinstance(ttl_seconds, int) or isinstance(ttl_seconds, bool) or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidRequest(f"expires_in must be 1..{MAX_TTL_SECONDS} seconds")
    token_limits = parse_limits(limits, UNBOUNDED) if limits else None
    issued_at = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "ten": tenant,
        "tid": tenant_id,
        "scopes": scopes,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    if token_limits is not None:
        claims["limits"] = limits
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return token, _claims(claims)


def verify(secret: str, token: str) -> TokenClaims:
    """The claims of a valid token; ``Unauthorized`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "ten", "scopes"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    try:
        return _claims(claims)
    except (InvalidRequest, TypeError, ValueError) as exc:
        raise Unauthorized(f"invalid token claims: {exc}") from None


def _claims(claims: dict[str, Any]) -> TokenClaims:
    tenant = claims["ten"]
    scopes = claims["scopes"]
    if not isinstance(tenant, str) or not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("ten must be a string and scopes a list of strings")
    check_name(tenant, "tenant name")
    tenant_id = claims.get("tid")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise ValueError("tid must be a string")
    limits = claims.get("limits")
    return TokenClaims(
        tenant=tenant,
        scopes=frozenset(s for s in scopes if s in SCOPES),
        expires_at=int(claims["exp"]),
        token_id=str(claims.get("jti", "")),
        limits=parse_limits(limits, UNBOUNDED) if limits else None,
        tenant_id=tenant_id,
        issued_at=int(claims["iat"]),
    )
