"""Every registry test runs on both engines: SQLite (a file of its own) and PostgreSQL (a schema of its own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.gateway.registry.support import Backend
from tests.gateway.support import REGISTRY_BACKENDS, PostgresServer


@pytest.fixture(scope="module")
def postgres_database(request: pytest.FixtureRequest) -> str:
    """A fresh database for this test module (each test gets a schema of its own in it)."""
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.create_database("registry")


@pytest.fixture(params=REGISTRY_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        opened = Backend("sqlite", path=tmp_path)
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        url: str = request.getfixturevalue("postgres_database")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        opened = Backend("postgres", url=f"{url}&options={quote(f'-c search_path={schema}', safe='')}",
                         postgres=postgres)
    yield opened
    opened.close()
