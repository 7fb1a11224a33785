"""Every environment variable the code reads is in one table, the README's reference is generated from it,
and ``Settings.from_env`` reads the gateway's from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import VARIABLES, Settings, environment_reference
from tests.gateway.support import REPO

READ_BY_CODE = ("isolates", "host_api", "toolchains", "gateway")
README = REPO / "gateway" / "README.md"
BEGIN, END = "<!-- environment variables: begin (python -m gateway.config) -->", "<!-- environment variables: end -->"


def names_in_code() -> set[str]:
    names: set[str] = set()
    for package in READ_BY_CODE:
        for path in (REPO / package).rglob("*"):
            if path.suffix in (".py", ".sh") and path.is_file():
                names |= set(re.findall(r"(?<![A-Z0-9_])WASMTASK_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return names


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    listed = {variable.name for variable in VARIABLES}

    assert names_in_code() - listed == set()
    assert len(listed) == len(VARIABLES)


def test_the_readme_carries_the_generated_reference() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)

    assert text[start:end].strip() == environment_reference().strip(), "regenerate it: python -m gateway.config"


def test_the_places_that_read_the_other_variables_exist() -> None:
    for variable in VARIABLES:
        if variable.where:
            place = REPO / variable.where
            assert place.exists(), variable.name
            files = [place] if place.is_file() else list(place.rglob("*.py"))
            assert any(variable.name in f.read_text(encoding="utf-8") for f in files) or variable.read_by == "cli", \
                variable.name


def test_from_env_reads_every_gateway_variable(tmp_path: Path) -> None:
    environ = {variable.name: variable.example for variable in VARIABLES if variable.setting}
    environ["WASMTASK_DATA_DIR"] = str(tmp_path)

    settings = Settings.from_env(environ)

    assert settings.data_dir == tmp_path
    assert settings.workers >= 1 and settings.access_log is True
    assert (settings.tenant.rate_per_second, settings.tenant.rate_burst, settings.tenant.concurrency) == (50.0, 100, 4)
    assert settings.database_url == "postgresql://wasmtask@db/wasmtask"


@pytest.mark.parametrize(("name", "value"), [("WASMTASK_MAX_ISOLATES", "lots"), ("WASMTASK_QUEUE_DEPTH", "0"),
                                             ("WASMTASK_ACCESS_LOG", "maybe"), ("WASMTASK_TENANT_RATE", "-1")])
def test_a_bad_value_names_the_variable_and_an_example(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}='{re.escape(value)}': .* \(e\.g\. "):
        Settings.from_env({name: value})


def test_allow_lists_may_not_reach_the_platforms_own_stores() -> None:
    from gateway.deploy_spec import allowed_hosts
    from gateway.errors import InvalidRequest

    settings = Settings(redis_url="redis://:pw@172.28.0.10:6379/0",
                        database_url="postgresql://wasmtask:pw@db.internal/wasmtask")
    stores = settings.platform_stores
    assert stores == (("172.28.0.10", 6379), ("db.internal", 5432))
    for entry in ("http://172.28.0.10:6379", "https://172.28.0.10:6379", "https://db.internal:5432",
                  "http://*.internal:5432"):
        with pytest.raises(InvalidRequest, match="data store"):
            allowed_hosts([entry], stores)
    assert allowed_hosts(["https://api.example.com", "http://*"], stores) == ("https://api.example.com", "http://*")
    assert Settings(redis_url="unix:///data/redis.sock").platform_stores == ()
