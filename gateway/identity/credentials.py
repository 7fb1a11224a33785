"""The gateway's own credentials never reach guest code, whatever the request's shape.

A request to a function may carry the admin key or a tenant token in any
header, any number of times, in any case or spacing, under any scheme
(``Bearer``, ``Basic`` with the key as user or password, a custom one). Every
header whose value holds one of them is removed before the guest sees the
request: the admin key as a substring (also inside Basic's base64), or a JWT
whose signature verifies with the gateway's key (expired or not; it is still
ours). On routes where the gateway consumed the Authorization header (token
functions, ad-hoc runs) every Authorization header goes, whatever it holds.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

import jwt

from gateway.identity.tokens import ALGORITHM

# a JWT: three base64url parts; ours start with '{"' encoded ("eyJ")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_BASIC = re.compile(r"basic\s+([A-Za-z0-9+/=_-]+)", re.IGNORECASE)
CONSUMED_HEADERS = frozenset({"authorization"})


class CredentialFilter:
    """Recognises the admin key and the gateway's tokens inside header values."""

    def __init__(self, admin_key: str, jwt_secret: str) -> None:
        self._admin_key = admin_key
        self._jwt_secret = jwt_secret

    def holds_credential(self, value: str) -> bool:
        """Whether ``value`` carries the admin key or a token the gateway signed."""
        if self._holds_plainly(value):
            return True
        for match in _BASIC.finditer(value):
            encoded = match.group(1)
            encoded += "=" * (-len(encoded) % 4)
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    if self._holds_plainly(decode(encoded).decode("latin-1")):
                        return True
                except (binascii.Error, ValueError):
                    continue
        return False

    def _holds_plainly(self, value: str) -> bool:
        return self._admin_key in value or any(self._is_our_token(m.group()) for m in _JWT.finditer(value))

    def _is_our_token(self, candidate: str) -> bool:
        try:
            jwt.decode(candidate, self._jwt_secret, algorithms=[ALGORITHM],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False,
                                "verify_aud": False})
        except jwt.InvalidTokenError:
            return False
        return True

    def guest_headers(
        self, headers: Iterable[tuple[str, str]], *, authorization_consumed: bool
    ) -> list[tuple[str, str]]:
        """``headers`` (lower-case names) without any that carries a platform credential."""
        return [
            (name, value)
            for name, value in headers
            if not (authorization_consumed and name in CONSUMED_HEADERS) and not self.holds_credential(value)
        ]
