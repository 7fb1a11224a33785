"""CORS on the API for the console's origin only; never on a function's endpoint; never with credentials."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.config import Settings
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.console.conftest import ConsoleSite
from tests.gateway.support import Api, ThreadServer


def preflight(url: str, origin: str, method: str = "PUT", headers: str = "authorization,content-type") -> httpx.Response:
    return httpx.options(url, headers={"origin": origin, "access-control-request-method": method,
                                       "access-control-request-headers": headers})


def test_the_console_origin_may_call_the_api_with_a_bearer_header(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    answer = preflight(f"{site.gateway.url}/api/functions/{tenant}/x", site.console.url)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == site.console.url
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert "PUT" in answer.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in answer.headers  # cookies never ride along
    listed = httpx.get(f"{site.gateway.url}/api/functions/{tenant}",
                       headers={"origin": site.console.url, **api.token(tenant)})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == site.console.url
    assert "x-wasmtask-logs" in listed.headers["access-control-expose-headers"]


def test_another_origin_gets_no_cors(site: ConsoleSite) -> None:
    tenant = site.api.create_tenant()
    answer = preflight(f"{site.gateway.url}/api/functions/{tenant}", "http://evil.example")
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    listed = httpx.get(f"{site.gateway.url}/api/functions/{tenant}",
                       headers={"origin": "http://evil.example", **site.api.token(tenant)})
    assert "access-control-allow-origin" not in listed.headers


def test_a_function_endpoint_gets_no_cors_from_the_gateway(site: ConsoleSite) -> None:
    api = site.api
    tenant = api.create_tenant()
    api.deployed(tenant, "f", "module.exports = function (cb) { cb(null, 1) }", api.token(tenant))
    answer = httpx.get(f"{site.gateway.url}/run/{tenant}/f", headers={"origin": site.console.url})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


@pytest.fixture(scope="module")
def plain_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    server = ThreadServer(Settings(data_dir=tmp_path_factory.mktemp("no-cors"),
                                   **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    yield server
    server.stop()


def test_no_origin_configured_means_no_cors(plain_gateway: ThreadServer) -> None:
    tenant = Api(plain_gateway.url).create_tenant()
    answer = preflight(f"{plain_gateway.url}/api/functions/{tenant}", "http://127.0.0.1:8082")
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code == 405


def test_origins_are_parsed_strictly() -> None:
    settings = Settings.from_env({"WASMTASK_CONSOLE_ORIGINS": "https://Console.example.com, http://127.0.0.1:8082"})
    assert settings.console_origins == ("https://console.example.com", "http://127.0.0.1:8082")
    for bad in ("*", "ftp://x", "https://x/path", "https://user@x", "x.example"):
        with pytest.raises(ValueError, match="WASMTASK_CONSOLE_ORIGINS"):
            Settings.from_env({"WASMTASK_CONSOLE_ORIGINS": bad})
