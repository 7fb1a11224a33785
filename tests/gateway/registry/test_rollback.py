"""Rollback and secret changes are deploys: the function's next version, one transaction, a ``deploy`` change."""

from __future__ import annotations

import pytest

from gateway.errors import Conflict, NotFound
from tests.gateway.registry.support import Backend, spec


def test_a_rollback_is_the_next_version_with_the_old_code_and_the_current_secrets(backend: Backend) -> None:
    registry = backend.with_tenant()
    first = registry.deploy("acme", "f", spec("one", secrets={"KEY": "old"}, filename="one.js", env={"A": "1"}))
    registry.deploy("acme", "f", spec("two", secrets={"KEY": "rotated"}, filename="two.js"))
    start = registry.latest_change_id()

    rolled = registry.rollback("acme", "f", first.serial)

    assert (rolled.version, rolled.code, rolled.filename, rolled.env) == (3, b"one", "one.js", {"A": "1"})
    assert rolled.secrets == {"KEY": "rotated"}  # secrets are not rolled back
    assert rolled.note == "rollback to v1"
    assert registry.current("acme", "f").serial == rolled.serial > first.serial
    [change] = registry.changes_since(start, 10)
    assert (change.kind, change.function, change.version, change.serial) == ("deploy", "f", 3, rolled.serial)
    assert [(v["version"], v["current"], v["note"]) for v in registry.list_versions("acme", "f")] == [
        ("v1", False, ""), ("v2", False, ""), ("v3", True, "rollback to v1")]


def test_version_without_a_number_is_the_one_before_the_current(backend: Backend) -> None:
    registry = backend.with_tenant()
    registry.deploy("acme", "f", spec("one"))
    registry.deploy("acme", "f", spec("two"))

    assert registry.version("acme", "f").code == b"one"
    assert registry.version("acme", "f", 2).code == b"two"
    with pytest.raises(NotFound, match="no version v7"):
        registry.version("acme", "f", 7)
    registry.deploy("acme", "g", spec("only"))
    with pytest.raises(NotFound, match="no version before v1"):
        registry.version("acme", "g")


def test_a_rollback_to_another_functions_version_is_not_found(backend: Backend) -> None:
    registry = backend.with_tenant()
    other = registry.deploy("acme", "g", spec("g"))
    registry.deploy("acme", "f", spec("f"))

    with pytest.raises(NotFound):
        registry.rollback("acme", "f", other.serial)
    assert registry.current("acme", "f").version == 1


def test_a_secret_change_is_the_next_version_of_the_current_code(backend: Backend) -> None:
    registry = backend.with_tenant()
    current = registry.deploy("acme", "f", spec("code", secrets={"A": "1"}))

    changed = registry.change_secrets("acme", "f", current.serial, put={"B": "2"})
    removed = registry.change_secrets("acme", "f", changed.serial, delete=("A",))

    assert (changed.version, changed.code, changed.secrets, changed.note) == (2, b"code", {"A": "1", "B": "2"},
                                                                              "secret B set")
    assert (removed.version, removed.secrets, removed.secret_names, removed.note) == (3, {"B": "2"}, ("B",),
                                                                                      "secret A deleted")
    with pytest.raises(Conflict, match="changed meanwhile"):
        registry.change_secrets("acme", "f", current.serial, put={"C": "3"})
    with pytest.raises(NotFound, match="no secret 'Z'"):
        registry.change_secrets("acme", "f", removed.serial, delete=("Z",))
