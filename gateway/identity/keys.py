"""The server's three keys: from settings/env, else generated once into the data dir (0600)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from gateway.config import Settings

MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class Keys:
    """admin_key: the admin bearer key; jwt_secret: signs tenant tokens; secret_key: a Fernet key.

    ``admin_key_generated`` says whether the admin key lives in the data dir (a
    development set-up, printed at start-up) rather than the environment.
    """

    admin_key: str
    jwt_secret: str
    secret_key: str
    admin_key_generated: bool


def load_or_create(path: Path, generate: Callable[[], str]) -> str:
    """The key stored at ``path``; on first use, a new one written with mode 0600.

    Created with O_EXCL so two processes starting at once agree on one key.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def load_keys(settings: Settings) -> Keys:
    data_dir = settings.data_dir
    admin_key = settings.admin_key or load_or_create(
        data_dir / "admin.key", lambda: "wt_admin_" + secrets.token_urlsafe(24)
    )
    jwt_secret = settings.jwt_secret or load_or_create(data_dir / "jwt.key", lambda: secrets.token_urlsafe(48))
    secret_key = settings.secret_key or load_or_create(data_dir / "secret.key", lambda: Fernet.generate_key().decode())
    if len(jwt_secret) < MIN_SECRET_CHARS or len(admin_key) < MIN_SECRET_CHARS:
        raise ValueError(f"WASMTASK_JWT_SECRET and WASMTASK_ADMIN_KEY need at least {MIN_SECRET_CHARS} characters")
    return Keys(
        admin_key=admin_key,
        jwt_secret=jwt_secret,
        secret_key=secret_key,
        admin_key_generated=settings.admin_key is None,
    )
