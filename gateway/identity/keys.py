"""The platform's keys, and which process gets which.

    admin key      a bearer key of 16+ characters of ``A-Z a-z 0-9 _ -``. Processes compare
                   it as its SHA-256 digest (``AdminKey``); a dev key is generated into
                   ``data/admin.key`` (0600, for the banner) with its digest in
                   ``data/admin.key.sha256``.
    signing key    Ed25519; signs tenant tokens. Only the control plane (and the
                   ``wasmtask serve`` supervisor, for the demo token) reads it:
                   ``WASMTASK_SIGNING_KEY`` or ``data/signing.key`` (0600).
    public key     verifies tokens; what serving processes get: ``WASMTASK_TOKEN_PUBLIC_KEY``
                   or ``data/signing.pub``.
    secret key     the Fernet key of tenant secrets: serving processes decrypt them at
                   call time (``WASMTASK_SECRET_KEY`` or ``data/secret.key``, 0600).

SHA-256, not scrypt, for the admin key: it is a key, not a password (a generated
one has 192 random bits, an operator's must be 16+ characters of a 64-letter
alphabet), so a preimage search of its digest is out of reach, and a slow KDF
would cost tens of milliseconds on every admin request for no gain. Digests are
compared with ``hmac.compare_digest``.

Keys are written with ``O_EXCL``, so processes starting at once agree on one.
``ensure_keys`` (the supervisor, before any child starts) creates what is
missing; serving processes then read only digests and the public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from gateway.config import Settings

MIN_ADMIN_KEY_CHARS = 16
ADMIN_KEY_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{MIN_ADMIN_KEY_CHARS},}}")
ADMIN_KEY_FILE = "admin.key"
ADMIN_DIGEST_FILE = "admin.key.sha256"
SIGNING_KEY_FILE = "signing.key"
PUBLIC_KEY_FILE = "signing.pub"
SECRET_KEY_FILE = "secret.key"


class BadKey(ValueError):
    """A key that is malformed (named by its variable or file)."""


@dataclass(frozen=True)
class AdminKey:
    """The admin key as its SHA-256 digest: recognised, never held."""

    digest: bytes

    @classmethod
    def from_plaintext(cls, key: str) -> AdminKey:
        if not ADMIN_KEY_SHAPE.fullmatch(key):
            raise BadKey(f"the admin key needs {MIN_ADMIN_KEY_CHARS}+ characters of A-Z a-z 0-9 _ - "
                            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return cls(hashlib.sha256(key.encode()).digest())

    @classmethod
    def from_hex(cls, text: str) -> AdminKey:
        try:
            digest = bytes.fromhex(text.strip())
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise BadKey("WASMTASK_ADMIN_KEY_SHA256 must be 64 hex digits (sha256 of the admin key)")
        return cls(digest)

    @property
    def hex(self) -> str:
        return self.digest.hex()

    def matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the admin key (constant time in its digest)."""
        return hmac.compare_digest(hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).digest(), self.digest)

    def __repr__(self) -> str:
        return "AdminKey(<sha256>)"


@dataclass(frozen=True)
class ServingKeys:
    """What a process that runs guest code holds: no key that mints credentials."""

    admin: AdminKey
    token_public_key: Ed25519PublicKey
    secret_key: str


@dataclass(frozen=True)
class ControlKeys:
    """What the control plane holds: the signing key, and the admin key's digest."""

    admin: AdminKey
    signing_key: Ed25519PrivateKey


@dataclass(frozen=True)
class DevAdminKey:
    """The generated admin key of a development set-up (None: it comes from the environment)."""

    plaintext: str | None


def encode_private(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_public(key: Ed25519PublicKey) -> str:
    return base64.urlsafe_b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode().rstrip("=")


def _raw(text: str, what: str) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise BadKey(f"{what} must be 32 bytes, url-safe base64 (43 characters)")
    return raw


def decode_private(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw(text, "WASMTASK_SIGNING_KEY"))


def decode_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw(text, "WASMTASK_TOKEN_PUBLIC_KEY"))


def load_or_create(path: Path, generate: Callable[[], str], mode: int = 0o600) -> str:
    """The key stored at ``path``; on first use, a new one written with ``mode``.

    Created with O_EXCL so two processes starting at once agree on one key.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _write_once(path: Path, value: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def ensure_keys(settings: Settings) -> DevAdminKey:
    """Create the admin and signing keys the settings do not give and the data dir lacks (a development
    set-up); the generated admin key (for the banner), if the admin key is a generated one. (The secrets'
    key is the serving processes' business: ``load_serving_keys`` creates it.)"""
    data_dir = settings.data_dir
    if settings.signing_key is None and not (data_dir / SIGNING_KEY_FILE).exists():
        private = Ed25519PrivateKey.generate()
        _write_once(data_dir / SIGNING_KEY_FILE, encode_private(private), 0o600)
    if settings.signing_key is None and not (data_dir / PUBLIC_KEY_FILE).exists():
        private = decode_private((data_dir / SIGNING_KEY_FILE).read_text())
        _write_once(data_dir / PUBLIC_KEY_FILE, encode_public(private.public_key()), 0o644)
    if settings.admin_key is not None or settings.admin_key_sha256 is not None:
        return DevAdminKey(None)
    plaintext = load_or_create(data_dir / ADMIN_KEY_FILE, lambda: "wt_admin_" + secrets.token_urlsafe(24))
    digest = AdminKey.from_plaintext(plaintext).hex
    digest_file = data_dir / ADMIN_DIGEST_FILE
    if not digest_file.exists() or digest_file.read_text().strip() != digest:  # new, or admin.key replaced
        staged = digest_file.with_name(f".{ADMIN_DIGEST_FILE}.{os.getpid()}")
        staged.write_text(digest + "\n")
        staged.chmod(0o644)
        os.replace(staged, digest_file)
    return DevAdminKey(plaintext)


def load_admin(settings: Settings) -> AdminKey:
    if settings.admin_key is not None:
        return AdminKey.from_plaintext(settings.admin_key)
    if settings.admin_key_sha256 is not None:
        return AdminKey.from_hex(settings.admin_key_sha256)
    path = settings.data_dir / ADMIN_DIGEST_FILE
    if not path.exists():
        ensure_keys(settings)
    return AdminKey.from_hex(path.read_text())


def load_public_key(settings: Settings) -> Ed25519PublicKey:
    if settings.token_public_key is not None:
        return decode_public(settings.token_public_key)
    if settings.signing_key is not None:  # one process with every key (tests, a single container)
        return decode_private(settings.signing_key).public_key()
    path = settings.data_dir / PUBLIC_KEY_FILE
    if not path.exists():
        ensure_keys(settings)
    return decode_public(path.read_text())


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    if settings.signing_key is not None:
        return decode_private(settings.signing_key)
    path = settings.data_dir / SIGNING_KEY_FILE
    if not path.exists():
        ensure_keys(settings)
    return decode_private(path.read_text())


def load_serving_keys(settings: Settings) -> ServingKeys:
    """A serving process's keys: the admin key's digest, the public key, the secrets' key."""
    secret_key = settings.secret_key or load_or_create(settings.data_dir / SECRET_KEY_FILE,
                                                       lambda: Fernet.generate_key().decode())
    return ServingKeys(admin=load_admin(settings), token_public_key=load_public_key(settings), secret_key=secret_key)


def load_control_keys(settings: Settings) -> ControlKeys:
    """The control plane's keys: the signing key and the admin key's digest."""
    return ControlKeys(admin=load_admin(settings), signing_key=load_signing_key(settings))


if __name__ == "__main__":  # a fresh set for an env file: python -m gateway.identity.keys
    _private = Ed25519PrivateKey.generate()
    _admin = "wt_admin_" + secrets.token_urlsafe(24)
    print(f"WASMTASK_ADMIN_KEY={_admin}\nWASMTASK_ADMIN_KEY_SHA256={AdminKey.from_plaintext(_admin).hex}\n"
          f"WASMTASK_SIGNING_KEY={encode_private(_private)}\n"
          f"WASMTASK_TOKEN_PUBLIC_KEY={encode_public(_private.public_key())}")
