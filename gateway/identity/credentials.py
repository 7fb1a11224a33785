"""The gateway's own credentials never reach guest code, whatever the request's shape.

A request to a function may carry the admin key or a tenant token in any
header, any number of times, in any case or spacing, under any scheme
(``Bearer``, ``Basic`` with the key as user or password, a custom one). Every
header whose value holds one of them is removed before the guest sees the
request: the admin key as any run of its alphabet (``A-Z a-z 0-9 _ -``, so
``Bearer K``, ``k=K``, ``user:K`` inside Basic's base64), recognised by its
SHA-256 digest (this process never holds the key itself), or a JWT whose
signature verifies with the gateway's public key (expired or not; it is still
ours). On routes where the gateway consumed the Authorization header (token
functions, ad-hoc runs) every Authorization header goes, whatever it holds.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from gateway.identity.keys import MIN_ADMIN_KEY_CHARS, AdminKey
from gateway.identity.tokens import TokenVerifier

# a JWT: three base64url parts; ours start with '{"' encoded ("eyJ")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_ADMIN_KEY_LIKE = re.compile(rf"[A-Za-z0-9_-]{{{MIN_ADMIN_KEY_CHARS},}}")
_BASIC = re.compile(r"basic\s+([A-Za-z0-9+/=_-]+)", re.IGNORECASE)
CONSUMED_HEADERS = frozenset({"authorization"})
REMEMBERED_VALUES = 512
REMEMBERED_VALUE_CHARS = 256


class CredentialFilter:
    """Recognises the admin key and the gateway's tokens inside header values."""

    def __init__(self, admin: AdminKey, tokens: TokenVerifier) -> None:
        self._admin = admin
        self._tokens = tokens
        self._seen: dict[str, bool] = {}  # recent header values (a browser's repeat) and the answer

    def holds_credential(self, value: str) -> bool:
        """Whether ``value`` carries the admin key or a token the gateway signed. Answers for short
        values are remembered (a few hundred: cleared when full); they never change."""
        known = self._seen.get(value)
        if known is not None:
            return known
        holds = self._holds(value)
        if len(value) <= REMEMBERED_VALUE_CHARS:
            if len(self._seen) >= REMEMBERED_VALUES:
                self._seen.clear()
            self._seen[value] = holds
        return holds

    def _holds(self, value: str) -> bool:
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
        return (any(self._admin.matches(m.group()) for m in _ADMIN_KEY_LIKE.finditer(value))
                or any(self._tokens.is_ours(m.group()) for m in _JWT.finditer(value)))

    def guest_headers(
        self, headers: Iterable[tuple[str, str]], *, authorization_consumed: bool
    ) -> list[tuple[str, str]]:
        """``headers`` (lower-case names) without any that carries a platform credential."""
        return [
            (name, value)
            for name, value in headers
            if not (authorization_consumed and name in CONSUMED_HEADERS) and not self.holds_credential(value)
        ]
