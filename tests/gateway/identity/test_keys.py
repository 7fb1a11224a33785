"""The platform's keys: generated once into the data dir; a serving process gets digests and public halves."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.config import Settings
from gateway.control_plane import serving_environment, serving_settings
from gateway.identity.keys import (
    AdminKey,
    BadKey,
    ServingKeys,
    decode_public,
    encode_private,
    encode_public,
    ensure_keys,
    load_control_keys,
    load_serving_keys,
)
from gateway.identity.tokens import TokenSigner, TokenVerifier

ADMIN = "an-operators-admin-key-0123456789"


def test_the_admin_key_is_known_by_its_sha256_alone() -> None:
    admin = AdminKey.from_plaintext(ADMIN)

    assert admin.digest == hashlib.sha256(ADMIN.encode()).digest()
    assert admin.matches(ADMIN)
    assert not admin.matches(ADMIN + "x") and not admin.matches(ADMIN[:-1]) and not admin.matches("")
    assert AdminKey.from_hex(admin.hex) == admin
    assert ADMIN not in repr(admin)


@pytest.mark.parametrize("key", ["short-key", "has spaces in it 0123456789", "plus+slash/0123456789", ""])
def test_admin_keys_outside_the_bearer_alphabet_are_refused(key: str) -> None:
    with pytest.raises(BadKey, match="16\\+ characters"):
        AdminKey.from_plaintext(key)


@pytest.mark.parametrize("text", ["", "abc", "zz" * 32, "00" * 31])
def test_a_malformed_admin_digest_is_refused(text: str) -> None:
    with pytest.raises(BadKey, match="64 hex digits"):
        AdminKey.from_hex(text)


def test_a_fresh_data_dir_gets_every_key_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    generated = ensure_keys(settings)
    again = ensure_keys(settings)

    assert generated.plaintext and generated.plaintext.startswith("wt_admin_") and again == generated
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in tmp_path.iterdir()}
    assert modes == {"admin.key": "0o600", "admin.key.sha256": "0o644", "signing.key": "0o600",
                     "signing.pub": "0o644"}
    assert load_serving_keys(settings).admin.matches(generated.plaintext)
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"  # the serving process's


def test_a_serving_process_needs_neither_the_admin_key_nor_the_signing_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ensure_keys(settings)
    signer = TokenSigner(load_control_keys(settings).signing_key)
    (tmp_path / "admin.key").unlink()
    (tmp_path / "signing.key").unlink()

    keys = load_serving_keys(settings)

    assert isinstance(keys, ServingKeys) and set(vars(keys)) == {"admin", "token_public_key", "secret_key"}
    token, _ = signer.issue("acme", ["run"], tenant_id="t1")
    assert TokenVerifier(keys.token_public_key).verify(token).tenant == "acme"
    assert not (tmp_path / "admin.key").exists() and not (tmp_path / "signing.key").exists()


def test_keys_from_the_environment_become_digests_and_public_keys_for_serving(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    environ = {"WASMTASK_ADMIN_KEY": ADMIN, "WASMTASK_SIGNING_KEY": encode_private(private), "WASMTASK_X": "1",
               "WASMTASK_SECRET_KEY": "kept"}

    env = serving_environment(environ)
    settings = serving_settings(Settings.from_env(environ, data_dir=tmp_path), "http://127.0.0.1:8081")

    assert env == {"WASMTASK_ADMIN_KEY_SHA256": AdminKey.from_plaintext(ADMIN).hex, "WASMTASK_X": "1",
                   "WASMTASK_TOKEN_PUBLIC_KEY": encode_public(private.public_key()), "WASMTASK_SECRET_KEY": "kept"}
    assert settings.admin_key is None and settings.signing_key is None
    assert settings.admin_key_sha256 == env["WASMTASK_ADMIN_KEY_SHA256"]
    assert settings.token_public_key == env["WASMTASK_TOKEN_PUBLIC_KEY"]
    assert settings.control_url == "http://127.0.0.1:8081"
    assert decode_public(env["WASMTASK_TOKEN_PUBLIC_KEY"]) is not None
    assert load_serving_keys(settings).admin.matches(ADMIN)


def test_a_replaced_dev_admin_key_gets_its_digest_again(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = ensure_keys(settings).plaintext
    (tmp_path / "admin.key").unlink()  # a developer's way to a new key

    second = ensure_keys(settings).plaintext

    assert second and second != first
    assert load_serving_keys(settings).admin.matches(second)
    assert not load_serving_keys(settings).admin.matches(first or "")
