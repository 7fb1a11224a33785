"""Secrets at rest: a function's secrets are one Fernet token (AES-128-CBC + HMAC-SHA256) of their JSON."""

from __future__ import annotations

import orjson
from cryptography.fernet import Fernet, InvalidToken


class SecretBoxError(Exception):
    """The key is malformed, or a stored token does not decrypt with it (a changed WASMTASK_SECRET_KEY)."""


class SecretBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as exc:
            raise SecretBoxError("the secret key is not a Fernet key (32 url-safe base64-encoded bytes)") from exc

    def seal(self, secrets: dict[str, str]) -> bytes:
        return self._fernet.encrypt(orjson.dumps(secrets))

    def open(self, token: bytes) -> dict[str, str]:
        try:
            secrets: dict[str, str] = orjson.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise SecretBoxError("stored secrets do not decrypt with the configured secret key") from exc
        return secrets

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
