"""The cron store tests run on both engines, like the registry's (tests/gateway/registry/conftest.py)."""

from tests.gateway.registry.conftest import backend, postgres_database

__all__ = ["backend", "postgres_database"]
