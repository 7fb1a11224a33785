"""Every language through the HTTP gateway: PUT /api/functions/{tenant}/{name}, then /run/{tenant}/{name}."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.config import Settings
from tests.gateway.support import ADMIN_KEY, Api, ThreadServer, error_code
from tests.toolchains.support import require_toolchain

REPO = Path(__file__).resolve().parents[2]

EXAMPLES = {
    "wasm": "examples/wasm/hello.wat",
    "c": "examples/c/hello.c",
    "zig": "examples/zig/hello.zig",
    "rust": "examples/rust/hello.rs",
    "assemblyscript": "examples/assemblyscript/hello.ts",
    "python": "examples/python/hello.py",
}
LANGUAGES = [pytest.param(language, marks=pytest.mark.slow) if language == "python" else language for language in EXAMPLES]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    server = ThreadServer(Settings(data_dir=tmp_path_factory.mktemp("gateway-data"), admin_key=ADMIN_KEY)).start()
    try:
        yield Api(server.url)
    finally:
        server.stop()


@pytest.fixture
def tenant(api: Api) -> str:
    return api.create_tenant()


@pytest.mark.parametrize("language", LANGUAGES)
def test_deploy_and_run_the_example(api: Api, tenant: str, language: str) -> None:
    require_toolchain(language)
    token = api.token(tenant)
    deployed = api.deployed(tenant, "hello", (REPO / EXAMPLES[language]).read_text(), token, language=language)
    assert deployed["language"] == language

    response = api.http.post(f"/run/{tenant}/hello?name=Ada", content=b"", headers=token)

    assert response.status_code == 200, response.text
    if language == "wasm":
        assert response.json()["hello"] == "wasm"
    else:
        assert response.json() == {"hello": "Ada", "method": "POST", "language": language}


def test_compile_error_is_invalid_code_over_http(api: Api, tenant: str) -> None:
    require_toolchain("c")
    response = api.deploy(tenant, "broken", "void handle(const char *r) { nope(); }", api.token(tenant), language="c")
    assert error_code(response) == "invalid_code"
    assert "main.c" in response.json()["error"]["message"]


def test_guest_loop_is_cpu_limit_over_http(api: Api, tenant: str) -> None:
    require_toolchain("zig")
    token = api.token(tenant)
    source = 'const wt = @import("wasmtask");\nvar n: u64 = 0;\n' \
             "pub fn handle(req: *wt.Request) !wt.Response { _ = req; while (true) { @as(*volatile u64, &n).* += 1; } }"
    api.deployed(tenant, "spin", source, token, language="zig", limits={"fuel": 20_000_000})
    response = api.http.get(f"/run/{tenant}/spin", headers=token)
    assert error_code(response) == "cpu_limit"


def test_guest_error_over_http(api: Api, tenant: str) -> None:
    require_toolchain("rust")
    token = api.token(tenant)
    source = 'fn handle(_: &wasmtask::Request) -> Result<wasmtask::Response, String> { Err("nope".into()) }\n' \
             "wasmtask::entry!(handle);"
    api.deployed(tenant, "fails", source, token, language="rust")
    response = api.http.get(f"/run/{tenant}/fails", headers=token)
    assert error_code(response) == "guest_error"
    assert "nope" in response.json()["error"]["message"]
