"""The change feed: every change is announced in its own transaction, in commit order, and old entries are pruned."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.errors import Conflict
from gateway.registry import store
from gateway.registry.database import Session
from isolates import Limits
from tests.gateway.registry.support import Backend, spec


def test_every_kind_of_change_is_announced_in_order(backend: Backend) -> None:
    registry = backend.open()
    start = registry.latest_change_id()

    registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)
    first = registry.deploy("acme", "f", spec("x"))
    second = registry.deploy("acme", "f", spec("y"))
    registry.update_tenant("acme", rate_burst=5)
    registry.delete_function("acme", "f")
    registry.delete_tenant("acme")

    changes = registry.changes_since(start, 100)
    assert [(c.kind, c.tenant, c.function, c.version, c.serial) for c in changes] == [
        ("tenant_created", "acme", None, None, None),
        ("deploy", "acme", "f", 1, first.serial),
        ("deploy", "acme", "f", 2, second.serial),
        ("tenant_changed", "acme", None, None, None),
        ("delete", "acme", "f", None, None),
        ("tenant_deleted", "acme", None, None, None),
    ]
    ids = [c.id for c in changes]
    assert ids == sorted(ids) and ids[-1] == registry.latest_change_id()
    assert all(c.at > 0 for c in changes)


def test_a_change_that_did_not_happen_is_not_announced(backend: Backend) -> None:
    registry = backend.with_tenant()
    start = registry.latest_change_id()

    with pytest.raises(Conflict):
        registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)

    assert registry.changes_since(start, 10) == []


def test_a_reader_pages_through_the_feed(backend: Backend) -> None:
    registry = backend.with_tenant()
    start = registry.latest_change_id()
    for index in range(5):
        registry.deploy("acme", f"f{index}", spec("x"))

    first = registry.changes_since(start, 2)
    rest = registry.changes_since(first[-1].id, 10)

    assert [c.function for c in first + rest] == ["f0", "f1", "f2", "f3", "f4"]
    assert registry.changes_since(rest[-1].id, 10) == []


def test_another_process_sees_the_changes(backend: Backend) -> None:
    writer, reader = backend.with_tenant(), backend.open()
    start = reader.latest_change_id()

    writer.deploy("acme", "f", spec("x"))

    assert [(c.kind, c.function) for c in reader.changes_since(start, 10)] == [("deploy", "f")]


def test_old_changes_are_pruned_but_the_newest_are_kept(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "CHANGES_KEPT", 5)
    monkeypatch.setattr(store, "CHANGES_KEPT_SECONDS", 0)
    monkeypatch.setattr(store, "PRUNE_EVERY", 1)
    registry = backend.with_tenant()

    for index in range(12):
        registry.deploy("acme", "f", spec(str(index)))

    latest = registry.latest_change_id()
    kept = registry.changes_since(0, 100)
    assert [c.id for c in kept] == list(range(latest - 4, latest + 1))
    assert registry.changes_pruned_through() == latest - 5  # a reader further behind missed something


def test_young_changes_are_not_pruned(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "CHANGES_KEPT", 2)
    monkeypatch.setattr(store, "PRUNE_EVERY", 1)  # CHANGES_KEPT_SECONDS stays a day
    registry = backend.with_tenant()

    for index in range(6):
        registry.deploy("acme", "f", spec(str(index)))

    assert len(registry.changes_since(0, 100)) == 7
    assert registry.changes_pruned_through() == 0


def test_a_change_is_never_visible_before_an_earlier_one_commits(backend: Backend) -> None:
    """Change ids are handed out in commit order: a slow transaction that took an id holds back later ones,
    so a reader that saw id n can never have skipped a smaller id that commits later."""
    slow, fast, reader = backend.with_tenant(), backend.open(), backend.open()
    start = reader.latest_change_id()
    recorded, release = threading.Event(), threading.Event()

    def slow_change(session: Session) -> None:
        slow._record(session, "tenant_changed", "acme")
        recorded.set()
        release.wait(10)

    slow_thread = threading.Thread(target=slow.database.write, args=(slow_change,))
    slow_thread.start()
    assert recorded.wait(10)
    fast_thread = threading.Thread(target=fast.deploy, args=("acme", "f", spec("x")))
    fast_thread.start()
    time.sleep(0.3)  # the deploy goes as far as it can

    visible_meanwhile = reader.changes_since(start, 10)
    release.set()
    slow_thread.join(10)
    fast_thread.join(10)

    assert visible_meanwhile == []
    assert [c.kind for c in reader.changes_since(start, 10)] == ["tenant_changed", "deploy"]
