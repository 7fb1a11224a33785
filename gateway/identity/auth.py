"""Who is calling: the admin key, a tenant token, or nobody; and whether that covers tenant + scope
(+ function).

A token may be narrowed to one function (its ``fn`` claim: ``Principal.function``).
Every tenant route says, through ``authorize``, which function it acts on:

    function=NAME   the route reads, deploys, runs or tails function NAME: a narrowed token
                    passes only for its own function
    narrowed=True   a tenant-wide route that limits its answer to the token's function
                    itself (the function list, the live log, the job list, the console's stats)
    neither         a tenant-wide route (an ad-hoc run, the tenant's settings): a narrowed
                    token is refused

So a route that forgets to say refuses narrowed tokens (tests/gateway/identity/
test_function_tokens.py walks every route to hold that).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers

from gateway.errors import Forbidden, Unauthorized
from gateway.identity.keys import AdminKey
from gateway.identity.tokens import SCOPES, TokenVerifier
from gateway.registry import Tenant
from isolates.limits import Limits

CHALLENGE = {"www-authenticate": 'Bearer realm="wasmtask"'}


@dataclass(frozen=True)
class Principal:
    """The admin (every tenant, every scope) or the holder of one tenant's token."""

    admin: bool
    tenant: str | None
    scopes: frozenset[str]
    limits: Limits | None = None
    tenant_id: str | None = None  # the identity the token was issued for (tokens.py)
    issued_at: int = 0
    token_id: str | None = None  # the token's jti (None: the admin key)
    function: str | None = None  # the one function a narrowed token is for (None: every function)


ADMIN = Principal(admin=True, tenant=None, scopes=frozenset(SCOPES))


def bearer(headers: Mapping[str, str]) -> str | None:
    """The bearer credential; ``Unauthorized`` for another scheme or for several Authorization
    headers (which one counts would be ambiguous, and the other might reach a guest)."""
    values = headers.getlist("authorization") if isinstance(headers, Headers) else [headers.get("authorization", "")]
    if len(values) > 1:
        raise Unauthorized("send one Authorization header, not several", headers=CHALLENGE)
    value = values[0] if values else ""
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'", headers=CHALLENGE)
    return credentials.strip()


def authenticate(headers: Mapping[str, str], *, admin: AdminKey, tokens: TokenVerifier) -> Principal | None:
    """The caller's principal, None without credentials; ``Unauthorized`` for bad ones
    (``token_revoked`` for a revoked token, ``token_reissue_required`` for an HS256 one)."""
    token = bearer(headers)
    if token is None:
        return None
    if admin.matches(token):
        return ADMIN
    claims = tokens.verify(token)
    return Principal(admin=False, tenant=claims.tenant, scopes=claims.scopes, limits=claims.limits,
                     tenant_id=claims.tenant_id, issued_at=claims.issued_at, token_id=claims.token_id,
                     function=claims.function)


def authorize(principal: Principal | None, tenant: str, scope: str, *, function: str | None = None,
              narrowed: bool = False) -> Principal:
    """``principal`` if it may act on ``tenant`` with ``scope`` ("any": any scope) and, for a token narrowed
    to one function, on ``function`` (``narrowed``: the route limits itself to the token's function);
    else Unauthorized / Forbidden."""
    if principal is None:
        raise Unauthorized("this route needs a token: 'Authorization: Bearer <token>'", headers=CHALLENGE)
    if principal.admin:
        return principal
    if principal.tenant != tenant:
        raise Forbidden(f"the token is not valid for tenant {tenant!r}")
    if scope != "any" and scope not in principal.scopes:
        raise Forbidden(f"the token lacks the {scope!r} scope")
    if not narrowed:
        check_function(principal, function)
    return principal


def check_function(principal: Principal, function: str | None) -> None:
    """``Forbidden`` unless ``principal`` may act on ``function`` (None: on the whole tenant)."""
    if principal.function is None or principal.admin or function == principal.function:
        return
    if function is None:
        raise Forbidden(f"the token is for function {principal.function!r} only: this route acts on the whole tenant")
    raise Forbidden(f"the token is for function {principal.function!r} only, not {function!r}")


def check_tenant(principal: Principal | None, tenant: Tenant) -> None:
    """``Unauthorized`` when a tenant token was issued for an earlier tenant of the same name.

    ``authorize`` checks the name before the tenant is looked up; this checks the
    identity after. Tokens without ``tid`` (issued before tenant ids) must be no
    older than the tenant (``iat`` has whole seconds, hence the floor)."""
    if principal is None or principal.admin:
        return
    if principal.tenant_id is not None:
        valid = hmac.compare_digest(principal.tenant_id.encode(), tenant.uid.encode())
    else:
        valid = principal.issued_at >= int(tenant.created_at)
    if not valid:
        raise Unauthorized(f"the token was issued for an earlier tenant named {tenant.name!r}", headers=CHALLENGE)


def authorize_admin(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("this route needs the admin key: 'Authorization: Bearer <admin key>'", headers=CHALLENGE)
    if not principal.admin:
        raise Forbidden("this route needs the admin key, not a tenant token")
    return principal
