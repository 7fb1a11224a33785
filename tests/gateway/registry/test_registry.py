"""The registry on its own, on each engine: tenants, atomic deploys, encrypted secrets, reopening."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.secret_box import SecretBoxError
from isolates import Limits
from tests.gateway.registry.support import Backend, spec


def test_a_deploy_makes_a_new_current_version(backend: Backend) -> None:
    registry = backend.with_tenant()

    first = registry.deploy("acme", "f", spec("one"))
    second = registry.deploy("acme", "f", spec("two"))

    assert (first.version, second.version) == (1, 2)
    assert second.version_id == "v2"
    assert registry.current("acme", "f").code == b"two"
    assert [v["current"] for v in registry.list_versions("acme", "f")] == [False, True]


def test_a_deploy_that_fails_midway_leaves_the_previous_version(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("old"))
    changes = registry.latest_change_id()

    def crash(*args: object) -> None:
        raise RuntimeError("crash between the version row and the flip")

    monkeypatch.setattr(registry, "_make_current", crash)
    with pytest.raises(RuntimeError):
        registry.deploy("acme", "f", spec("new"))
    monkeypatch.undo()

    assert registry.current("acme", "f").code == b"old"
    assert len(registry.list_versions("acme", "f")) == 1
    assert registry.latest_change_id() == changes  # no change announced either
    assert registry.deploy("acme", "f", spec("newer")).version == 2  # the number was not used up


def test_everything_survives_reopening(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("code", secrets={"TOKEN": "hunter2-secret"}, allowed_hosts=("https://a.b",)))
    registry.close()

    reopened = backend.open()
    version = reopened.current("acme", "f")

    assert version.secrets == {"TOKEN": "hunter2-secret"}
    assert version.allowed_hosts == ("https://a.b",)
    assert reopened.get_tenant("acme").rate_burst == 10


def test_secrets_are_encrypted_at_rest(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("code", secrets={"TOKEN": "plain-text-secret-value"}))
    registry.close()

    stored = backend.stored_bytes()

    assert b"plain-text-secret-value" not in stored
    assert b"TOKEN" in stored  # names are not secret


def test_secrets_need_the_same_key(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("code", secrets={"A": "b"}))
    registry.close()

    with pytest.raises(SecretBoxError):
        backend.open(Fernet.generate_key().decode()).current("acme", "f")


def test_a_deploy_without_secrets_keeps_the_current_ones(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("one", secrets={"A": "kept"}))

    kept = registry.deploy("acme", "f", spec("two"))
    cleared = registry.deploy("acme", "f", spec("three", secrets={}))

    assert kept.secrets == {"A": "kept"}
    assert cleared.secrets == {}


def test_names_are_checked(backend: Backend) -> None:
    registry = backend.with_tenant()

    with pytest.raises(InvalidRequest):
        registry.deploy("acme", "../etc", spec("x"))
    with pytest.raises(InvalidRequest):
        registry.create_tenant("Bad Name", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)


def test_duplicates_and_unknowns(backend: Backend) -> None:
    registry = backend.with_tenant()

    with pytest.raises(Conflict):
        registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)
    with pytest.raises(NotFound):
        registry.deploy("nobody", "f", spec("x"))
    with pytest.raises(NotFound):
        registry.current("acme", "missing")
    with pytest.raises(NotFound):
        registry.list_versions("acme", "missing")
    with pytest.raises(NotFound):
        registry.delete_function("acme", "missing")
    with pytest.raises(NotFound):
        registry.update_tenant("nobody", rate_burst=1)
    with pytest.raises(NotFound):
        registry.delete_tenant("nobody")


def test_deleting_a_tenant_deletes_its_functions(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("x"))

    registry.delete_tenant("acme")

    with pytest.raises(NotFound):
        registry.current("acme", "f")
    with pytest.raises(NotFound):
        registry.get_tenant("acme")


def test_a_tenant_created_again_has_a_new_identity_and_no_functions(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("x"))
    uid = registry.get_tenant("acme").uid
    registry.delete_tenant("acme")

    registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)

    assert registry.get_tenant("acme").uid != uid
    assert registry.list_functions("acme") == []


def test_a_tenant_is_updated_field_by_field(backend: Backend) -> None:
    registry = backend.with_tenant()

    updated = registry.update_tenant("acme", rate_burst=3, max_limits=Limits(fuel=1_000))

    assert (updated.rate_burst, updated.rate_per_second, updated.concurrency) == (3, 10.0, 2)
    assert updated.max_limits.fuel == 1_000
    assert registry.get_tenant("acme") == updated


def test_listings(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "b", spec("x"))
    registry.deploy("acme", "a", spec("x", auth="token"))
    registry.deploy("acme", "a", spec("y"))

    listed = registry.list_functions("acme")

    assert [(f["name"], f["version"], f["auth"]) for f in listed] == [("a", "v2", "public"), ("b", "v1", "public")]
    assert [v["version"] for v in registry.list_versions("acme", "a")] == ["v1", "v2"]
    assert [t.name for t in registry.list_tenants()] == ["acme"]


def test_a_changed_secret_key_is_caught_at_open(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("code"))
    registry.close()

    backend.open().check_secret_key()
    with pytest.raises(SecretBoxError):
        backend.open(Fernet.generate_key().decode()).check_secret_key()
