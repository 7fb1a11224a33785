"""Who is calling: the admin key, a tenant token, or nobody; and whether that covers tenant + scope."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Mapping

from gateway.errors import Forbidden, Unauthorized
from gateway.tokens import SCOPES, verify
from isolates.limits import Limits

CHALLENGE = {"www-authenticate": 'Bearer realm="wasmtask"'}


@dataclass(frozen=True)
class Principal:
    """The admin (every tenant, every scope) or the holder of one tenant's token."""

    admin: bool
    tenant: str | None
    scopes: frozenset[str]
    limits: Limits | None = None


ADMIN = Principal(admin=True, tenant=None, scopes=frozenset(SCOPES))


def bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", headers=CHALLENGE)
    return credentials.strip()


def authenticate(headers: Mapping[str, str], *, admin_key: str, jwt_secret: str) -> Principal | None:
    """The caller's principal, None without credentials; ``Unauthorized`` for bad ones."""
    token = bearer(headers)
    if token is None:
        return None
    if hmac.compare_digest(token.encode(), admin_key.encode()):
        return ADMIN
    claims = verify(jwt_secret, token)
    return Principal(admin=False, tenant=claims.tenant, scopes=claims.scopes, limits=claims.limits)


def authorize(principal: Principal | None, tenant: str, scope: str) -> Principal:
    """``principal`` if it may act on ``tenant`` with ``scope`` ("any": any scope); else Unauthorized / Forbidden."""
    if principal is None:
        raise Unauthorized("this route needs a token: 'Authorization: Bearer <token>'", headers=CHALLENGE)
    if principal.admin:
        return principal
    if principal.tenant != tenant:
        raise Forbidden(f"the token is not valid for tenant {tenant!r}")
    if scope != "any" and scope not in principal.scopes:
        raise Forbidden(f"the token lacks the {scope!r} scope")
    return principal


def authorize_admin(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("this route needs the admin key: 'Authorization: Bearer <admin key>'", headers=CHALLENGE)
    if not principal.admin:
        raise Forbidden("this route needs the admin key, not a tenant token")
    return principal
