"""The registry on its own: tenants, atomic deploys, encrypted secrets, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.registry import DeploySpec, Registry
from gateway.secret_box import SecretBox, SecretBoxError
from isolates import Limits

KEY = Fernet.generate_key().decode()


def open_registry(path: Path, key: str = KEY) -> Registry:
    return Registry(path / "registry.sqlite3", SecretBox(key))


def with_tenant(path: Path, name: str = "acme") -> Registry:
    registry = open_registry(path)
    registry.create_tenant(name, max_limits=Limits(), rate_per_second=10.0, rate_burst=10, concurrency=2)
    return registry


def spec(code: str, **fields: object) -> DeploySpec:
    return DeploySpec(language="javascript", code=code.encode(), limits=Limits(), **fields)  # type: ignore[arg-type]


def test_a_deploy_makes_a_new_current_version(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)

    first = registry.deploy("acme", "f", spec("one"))
    second = registry.deploy("acme", "f", spec("two"))

    assert second.version > first.version
    assert registry.current("acme", "f").code == b"two"
    assert [v["current"] for v in registry.list_versions("acme", "f")] == [False, True]


def test_a_deploy_that_fails_midway_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("old"))

    def crash(*args: object) -> None:
        raise RuntimeError("crash between the version row and the flip")

    monkeypatch.setattr(registry, "_make_current", crash)
    with pytest.raises(RuntimeError):
        registry.deploy("acme", "f", spec("new"))

    assert registry.current("acme", "f").code == b"old"
    assert len(registry.list_versions("acme", "f")) == 1


def test_everything_survives_reopening(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("code", secrets={"TOKEN": "hunter2-secret"}, allowed_hosts=("https://a.b",)))
    registry.close()

    reopened = open_registry(tmp_path)
    version = reopened.current("acme", "f")

    assert version.secrets == {"TOKEN": "hunter2-secret"}
    assert version.allowed_hosts == ("https://a.b",)
    assert reopened.get_tenant("acme").rate_burst == 10


def test_secrets_are_encrypted_at_rest(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("code", secrets={"TOKEN": "plain-text-secret-value"}))
    registry.close()

    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())

    assert b"plain-text-secret-value" not in stored
    assert b"TOKEN" in stored  # names are not secret


def test_secrets_need_the_same_key(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("code", secrets={"A": "b"}))
    registry.close()

    with pytest.raises(SecretBoxError):
        open_registry(tmp_path, Fernet.generate_key().decode()).current("acme", "f")


def test_a_deploy_without_secrets_keeps_the_current_ones(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("one", secrets={"A": "kept"}))

    kept = registry.deploy("acme", "f", spec("two"))
    cleared = registry.deploy("acme", "f", spec("three", secrets={}))

    assert kept.secrets == {"A": "kept"}
    assert cleared.secrets == {}


def test_names_are_checked(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)

    with pytest.raises(InvalidRequest):
        registry.deploy("acme", "../etc", spec("x"))
    with pytest.raises(InvalidRequest):
        registry.create_tenant("Bad Name", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)


def test_duplicates_and_unknowns(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)

    with pytest.raises(Conflict):
        registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)
    with pytest.raises(NotFound):
        registry.deploy("nobody", "f", spec("x"))
    with pytest.raises(NotFound):
        registry.current("acme", "missing")
    with pytest.raises(NotFound):
        registry.delete_function("acme", "missing")


def test_deleting_a_tenant_deletes_its_functions(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("x"))

    registry.delete_tenant("acme")

    with pytest.raises(NotFound):
        registry.current("acme", "f")


def test_a_changed_secret_key_is_caught_at_open(tmp_path: Path) -> None:
    registry = with_tenant(tmp_path)
    registry.deploy("acme", "f", spec("code"))
    registry.close()

    open_registry(tmp_path).check_secret_key()
    with pytest.raises(SecretBoxError):
        open_registry(tmp_path, Fernet.generate_key().decode()).check_secret_key()
