"""Tenant tokens: Ed25519-signed JWTs (``EdDSA``) carrying tenant, scopes, expiry, limits and an id.

Only the control plane holds the private key and issues tokens (``TokenSigner``);
the processes that run guest code hold the public key and only verify
(``TokenVerifier``): an escaped guest there can read every token it is sent, but
can mint none. Verification pins ``algorithms=["EdDSA"]`` and requires ``exp``
and ``jti``, so ``alg: none``, other algorithms, wrong signatures and expired
tokens all fail as ``Unauthorized``.

HS256 tokens of earlier versions are refused with the code
``token_reissue_required`` (401): accepting them, even for a transition window,
would put the HMAC secret (which mints tokens) back into every serving process,
the very thing Ed25519 takes out. Their holders ask for a new token
(``wasmtask token issue``); the message says so.

A token names its tenant twice: ``ten`` (the name, checked before the tenant is
looked up, so a foreign token learns nothing) and ``tid`` (the tenant's
identity, a random id the registry gives each tenant at creation). A token is
valid only for the tenant it was issued for: delete ``t`` and create a new
``t``, and the old tokens fail (``auth.check_tenant``).

A token may name one function (``fn``): it then reads, deploys, runs and tails only
that function of its tenant (``auth.authorize``'s ``function``; what each route
allows is in gateway/identity/auth.py).

Every token carries a ``jti``; the control plane records each issued one in the
registry, where it can be revoked (``POST /api/tokens/revoke``). Verified tokens
are cached (an EdDSA verify costs ~157 µs of CPU, an HS256 one ~49 µs: FACTS.md),
bounded, by the token's text; a cached token still expires at its ``exp`` and is
refused as soon as its ``jti`` is in the verifier's revoked set.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.deploy_spec import parse_limits
from gateway.errors import InvalidRequest, TokenReissueRequired, TokenRevoked, Unauthorized
from gateway.names import check_name
from isolates.limits import UNBOUNDED, Limits

ALGORITHM = "EdDSA"
LEGACY_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})  # tokens of wasmtask before Ed25519
ISSUER = "wasmtask"
SCOPES = ("run", "deploy", "logs")
DEFAULT_TTL_SECONDS = 24 * 3600
MAX_TTL_SECONDS = 366 * 24 * 3600
VERIFIED_CACHE_SIZE = 4096  # tokens whose signature was checked, by their text (a few hundred bytes each)
REQUIRED_CLAIMS = ["exp", "iat", "iss", "ten", "scopes", "jti"]


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token grants. ``limits`` (optional) caps every call made with the token."""

    tenant: str
    scopes: frozenset[str]
    expires_at: int
    token_id: str
    limits: Limits | None = None
    tenant_id: str | None = None
    issued_at: int = 0
    function: str | None = None  # ``fn``: the one function the token is for (None: every function)


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidRequest(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {list(scopes)!r}")
    return sorted(set(scopes))


class TokenSigner:
    """Issues tokens: the control plane's, with the private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key

    def issue(
        self,
        tenant: str,
        scopes: list[str] | tuple[str, ...],
        *,
        tenant_id: str,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        limits: dict[str, Any] | None = None,
        function: str | None = None,
        now: float | None = None,
    ) -> tuple[str, TokenClaims]:
        """A signed token and its claims; with ``function``, a token for that one function."""
        check_name(tenant, "tenant name")
        if function is not None:
            check_name(function, "function name")
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
            "jti": secrets.token_hex(16),
        }
        if token_limits is not None:
            claims["limits"] = limits
        if function is not None:
            claims["fn"] = function
        token = jwt.encode(claims, self._private_key, algorithm=ALGORITHM)
        return token, _claims(claims)


class TokenVerifier:
    """Verifies tokens with the public key; caches verified ones; refuses revoked ones.

    ``revoked`` maps revoked token ids to their expiry (after which they fail anyway
    and are dropped); the gateway replaces it from the registry's change feed."""

    def __init__(self, public_key: Ed25519PublicKey, cache_size: int = VERIFIED_CACHE_SIZE) -> None:
        self._public_key = public_key
        self._cache: OrderedDict[str, TokenClaims] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._revoked: frozenset[str] = frozenset()

    def set_revoked(self, token_ids: Iterable[str]) -> None:
        """The ids of every revoked token not yet expired (replaces the previous set)."""
        self._revoked = frozenset(token_ids)

    def is_revoked(self, token_id: str) -> bool:
        return token_id in self._revoked

    def verify(self, token: str, *, now: float | None = None) -> TokenClaims:
        """The claims of a valid, unexpired, unrevoked token; ``Unauthorized`` for anything else."""
        now = time.time() if now is None else now
        with self._lock:
            claims = self._cache.get(token)
            if claims is not None:
                self._cache.move_to_end(token)
        if claims is None:
            claims = self.verify_signature(token)
            with self._lock:
                self._cache[token] = claims
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if claims.expires_at <= now:  # PyJWT's own check, for tokens that expired while cached
            raise Unauthorized("the token has expired")
        if claims.token_id in self._revoked:
            raise TokenRevoked("the token was revoked: ask for a new one (wasmtask token issue)")
        return claims

    def verify_signature(self, token: str, *, verify_exp: bool = True) -> TokenClaims:
        """The claims of a token signed with our key (not cached; revocation not checked)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        if header.get("alg") in LEGACY_ALGORITHMS:
            raise TokenReissueRequired(
                "this token was signed with HS256 by an earlier wasmtask; tokens are now Ed25519-signed: "
                "ask for a new one (wasmtask token issue)")
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        try:
            return _claims(claims)
        except (InvalidRequest, TypeError, ValueError) as exc:
            raise Unauthorized(f"invalid token claims: {exc}") from None

    def is_ours(self, candidate: str) -> bool:
        """Whether ``candidate`` is a JWT signed with our key, expired or not (credentials.py)."""
        with self._lock:
            if candidate in self._cache:
                return True
        try:
            jwt.decode(candidate, self._public_key, algorithms=[ALGORITHM],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False,
                                "verify_aud": False})
        except jwt.InvalidTokenError:
            return False
        return True


def _claims(claims: dict[str, Any]) -> TokenClaims:
    tenant = claims["ten"]
    scopes = claims["scopes"]
    if not isinstance(tenant, str) or not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("ten must be a string and scopes a list of strings")
    check_name(tenant, "tenant name")
    tenant_id = claims.get("tid")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise ValueError("tid must be a string")
    token_id = claims.get("jti")
    if not isinstance(token_id, str) or not token_id:
        raise ValueError("jti must be a non-empty string")
    function = claims.get("fn")
    if function is not None:
        if not isinstance(function, str):
            raise ValueError("fn must be a string")
        check_name(function, "function name")
    limits = claims.get("limits")
    return TokenClaims(
        tenant=tenant,
        scopes=frozenset(s for s in scopes if s in SCOPES),
        expires_at=int(claims["exp"]),
        token_id=token_id,
        limits=parse_limits(limits, UNBOUNDED) if limits else None,
        tenant_id=tenant_id,
        issued_at=int(claims["iat"]),
        function=function,
    )
