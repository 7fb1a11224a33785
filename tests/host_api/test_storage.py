"""host_api.storage's surface: its error codes and operations (behaviour: tests/gateway/storage, tests/isolates)."""

from __future__ import annotations

from host_api import errors
from host_api.storage import OPERATIONS


def test_every_storage_error_has_a_documented_code() -> None:
    def subclasses(cls: type[errors.StorageError]) -> list[type[errors.StorageError]]:
        return [cls] + [sub for direct in cls.__subclasses__() for sub in subclasses(direct)]

    codes = {cls.code for cls in subclasses(errors.StorageError)}

    assert codes | {"cpu_limit"} == errors.STORAGE_ERROR_CODES


def test_the_operations_are_the_documented_ones() -> None:
    assert set(OPERATIONS) == {"storage.get", "storage.set", "kv.get", "kv.put", "kv.delete", "kv.list"}

