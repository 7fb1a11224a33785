"""The CLI over HTTP: tenants, tokens, deploy, invoke, functions."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.cli import main
from tests.gateway.support import ADMIN_KEY, Api, unique

WORKER = """export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return Response.json({ name: url.searchParams.get("name"), body: await request.text(), key: env.KEY,
                           path: url.pathname.split("/").slice(4).join("/") });
  },
};
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_tenant_token_deploy_invoke_list(api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMTASK_URL", api.url)
    monkeypatch.setenv("WASMTASK_CONTROL_URL", api.control_url)
    monkeypatch.setenv("WASMTASK_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.delenv("WASMTASK_TOKEN", raising=False)
    tenant = unique("cli")
    source = tmp_path / "worker.js"
    source.write_text(WORKER)

    status, out, _ = run(capsys, "tenants", "create", tenant, "--json")
    assert status == 0 and orjson.loads(out)["name"] == tenant

    status, token, _ = run(capsys, "token", "issue", "--tenant", tenant, "--scopes", "run,deploy")
    assert status == 0
    monkeypatch.setenv("WASMTASK_TOKEN", token.strip())

    status, out, _ = run(capsys, "deploy", str(source), "--tenant", tenant, "--name", "hello", "--secret", "KEY=v1",
                         "--json")
    assert status == 0 and orjson.loads(out)["secrets"] == ["KEY"]

    status, out, _ = run(capsys, "invoke", "--tenant", tenant, "--name", "hello", "--path", "/a/b",
                         "-q", "name=cli", "-d", "payload")
    assert status == 0
    assert orjson.loads(out) == {"name": "cli", "body": "payload", "key": "v1", "path": "a/b"}

    status, out, _ = run(capsys, "--json", "functions", "list", "--tenant", tenant)
    assert status == 0 and [f["name"] for f in orjson.loads(out)["functions"]] == ["hello"]


def test_errors_are_one_line_and_exit_1(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "functions", "list", "--tenant", "nobody", "--url", api.url, "--token", "bad.token")

    assert status == 1
    assert err.startswith("error: unauthorized: ")


def test_invoke_of_a_failing_function_exits_1(api: Api, tenant: str, token: dict,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    api.deployed(tenant, "throws", "module.exports = function (cb) { cb(new Error('bad')); };", token)

    status, out, _ = run(capsys, "invoke", "--tenant", tenant, "--name", "throws", "--url", api.url)

    assert status == 1
    assert orjson.loads(out)["error"]["code"] == "guest_error"
