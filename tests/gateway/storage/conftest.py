"""Storage tests run on both registry engines, with the registry tests' fixtures."""

from tests.gateway.registry.conftest import backend, postgres_database

__all__ = ["backend", "postgres_database"]
