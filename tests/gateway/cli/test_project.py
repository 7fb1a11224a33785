"""A project from ``init`` to ``rollback``: wasmtask.toml, deploy with no arguments, versions, secrets."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.cli.templates import TEMPLATES
from tests.gateway.cli.support import Cli
from tests.gateway.support import Api


def test_init_deploy_invoke_rollback_javascript(cli: Cli, api: Api) -> None:
    created = cli("init", "hello", "--template", "worker", "--tenant", cli.tenant)
    cli.monkeypatch.chdir(cli.cwd / "hello")
    handler = cli.cwd / "hello" / "worker.js"

    first = cli("deploy")
    handler.write_text(handler.read_text().replace("hello: name", "bye: name"))
    second = cli("deploy", "--json")
    changed = cli("invoke", "-q", "name=ada")
    rolled = cli("rollback")
    after = cli("invoke", "-q", "name=ada")
    versions = cli("versions", "--json").json()["versions"]

    assert created.status == 0 and "wasmtask dev" in created.out
    assert first.status == 0 and "Deployed hello v1" in first.out
    assert f"{api.url}/run/{cli.tenant}/hello" in first.out
    assert second.json()["version"] == "v2" and second.json()["url"] == f"{api.url}/run/{cli.tenant}/hello"
    assert orjson.loads(changed.out)["bye"] == "ada"
    assert rolled.status == 0 and "Rolled back hello to v1: now v3 (was v2)" in rolled.out
    assert orjson.loads(after.out)["hello"] == "ada"
    assert [(v["version"], v["current"], v["note"]) for v in versions] == [
        ("v1", False, ""), ("v2", False, ""), ("v3", True, "rollback to v1")]
    table = cli("versions").out
    assert "v3 *" in table and "rollback to v1" in table


def test_init_deploy_invoke_rollback_c(cli: Cli) -> None:
    cli("init", "cfun", "-T", "c", "-t", cli.tenant)
    cli.monkeypatch.chdir(cli.cwd / "cfun")
    source = cli.cwd / "cfun" / "hello.c"

    first = cli("deploy", "--json")
    source.write_text(source.read_text().replace('\\"language\\":\\"c\\"', '\\"language\\":\\"C!\\"'))
    second = cli("deploy", "--json")
    changed = cli("invoke", "-q", "name=ada")
    rolled = cli("rollback", "cfun", "v1", "--json")
    after = cli("invoke", "cfun", "-q", "name=ada")

    assert (first.json()["version"], first.json()["language"], first.json()["filename"]) == ("v1", "c", "hello.c")
    assert second.json()["version"] == "v2"
    assert orjson.loads(changed.out) == {"hello": "ada", "method": "GET", "language": "C!"}
    assert (rolled.json()["version"], rolled.json()["rolled_back_to"]) == ("v3", "v1")
    assert orjson.loads(after.out)["language"] == "c"


def test_init_refuses_to_overwrite_and_every_template_is_a_project(cli: Cli) -> None:
    cli("init", "p")
    again = cli("init", "p")

    assert again.status == 2 and "exists already" in again.err
    for name, template in TEMPLATES.items():
        assert cli("init", f"t-{name}", "-T", name, "--json").json()["entry"] == template.entry
        assert (cli.cwd / f"t-{name}" / "wasmtask.toml").is_file()
        assert ".env" in (cli.cwd / f"t-{name}" / ".gitignore").read_text()


@pytest.mark.parametrize("template", ["js", "worker", "webtask"])
def test_each_javascript_template_runs_as_written(cli: Cli, template: str) -> None:
    cli("init", template, "-T", template)
    cli.monkeypatch.chdir(cli.cwd / template)

    ran = cli("run", "-q", "name=ada")

    assert ran.status == 0, ran.err
    assert "ada" in ran.out and "hello ada" in ran.err


def test_a_bad_manifest_is_a_usage_error_naming_the_file_and_the_key(cli: Cli) -> None:
    cli("init", "p")
    manifest = cli.cwd / "p" / "wasmtask.toml"
    cli.monkeypatch.chdir(cli.cwd / "p")
    text = manifest.read_text()

    manifest.write_text(text.replace("name =", "nmae ="))
    typo = cli("deploy")
    manifest.write_text(text + '\n[secrets]\nKEY = "x"\n')
    secrets = cli("deploy")
    manifest.write_text(text.replace('timeout = "2s"', 'timeout = "2"'))
    unit = cli("deploy")
    manifest.write_text(text.replace('name = "p"', 'name = "p'))
    toml = cli("deploy")

    assert typo.status == 2 and "unknown key 'nmae' (did you mean 'name'?)" in typo.err
    assert secrets.status == 2 and "secrets never go in wasmtask.toml" in secrets.err
    assert unit.status == 2 and "[limits] timeout: '2' has no unit" in unit.err
    assert toml.status == 2 and "not valid TOML" in toml.err and "line" in toml.err


def test_the_manifest_sets_limits_env_and_auth(cli: Cli, api: Api) -> None:
    cli("init", "p", "-T", "worker", "-t", cli.tenant)
    manifest = cli.cwd / "p" / "wasmtask.toml"
    manifest.write_text(manifest.read_text().replace('auth = "public"', 'auth = "token"')
                        .replace('# GREETING = "Hello"', 'GREETING = "Hi"').replace('timeout = "2s"', 'timeout = "1s"'))
    cli.monkeypatch.chdir(cli.cwd / "p")

    shown = cli("deploy", "--json").json()

    assert shown["auth"] == "token" and shown["env"] == {"GREETING": "Hi"}
    assert shown["limits"]["wall_clock_ms"] == 1000 and shown["limits"]["memory_bytes"] == 64 * 1024 * 1024
    assert api.http.get(f"/run/{cli.tenant}/p").status_code == 401


def test_secret_put_reads_stdin_never_echoes_and_makes_a_version(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", "module.exports = function (ctx, cb) { cb(null, ctx.secrets.API_KEY); };",
                 token)

    put = cli("secret", "put", "API_KEY", "--function", "f", stdin="s3cret-value\n")
    listed = cli("secret", "list", "-f", "f", "--json")
    bad = cli("secret", "put", "1BAD", "-f", "f", stdin="x")
    empty = cli("secret", "put", "EMPTY", "-f", "f", stdin="")

    assert put.status == 0 and "Set secret API_KEY on f: now v2" in put.out
    assert "s3cret-value" not in put.out + put.err
    assert api.http.get(f"/run/{cli.tenant}/f").json() == "s3cret-value"  # the newline echo added is gone
    assert listed.json()["secrets"] == ["API_KEY"]
    assert bad.status == 2 and "'SECRET'" in bad.err
    assert empty.status == 2 and "empty" in empty.err
    deleted = cli("secret", "delete", "API_KEY", "-f", "f")
    assert deleted.status == 0 and api.http.get(f"/run/{cli.tenant}/f").json() is None


def test_secrets_for_local_runs_come_from_an_env_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "f.js").write_text("module.exports = function (ctx, cb) { console.log('key is', ctx.secrets.KEY);"
                                   " cb(null, ctx.secrets.KEY); };")
    (tmp_path / "local.env").write_text("# local values\nexport KEY='from-the-file'\n")

    ran = cli("run", "f.js", "--env-file", "local.env")

    assert ran.json() == "from-the-file"
    assert "key is [secret]" in ran.err  # secret values are masked in log lines, locally too


def test_functions_list_get_delete_for_people_and_for_scripts(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", "module.exports = function (cb) { cb(null, 1); };", token, env={"MODE": "x"})

    table = cli("functions", "list")
    listed = cli("functions", "list", "--json").json()
    shown = cli("functions", "get", "f")
    refused = cli("functions", "delete", "f")  # stdin is not a terminal here: needs --yes
    deleted = cli("functions", "delete", "f", "--yes", "--json")

    assert "NAME" in table.out and "f" in table.out and "javascript" in table.out
    assert [f["name"] for f in listed["functions"]] == ["f"]
    assert "env:" in shown.out and "MODE=x" in shown.out
    assert refused.status == 2 and "--yes" in refused.err
    assert deleted.json()["deleted"] is True
    assert cli("functions", "list", "--json").json()["functions"] == []


def test_tenants_and_tokens(cli: Cli) -> None:
    name = f"{cli.tenant}-x"

    created = cli("tenants", "create", name, "--rate", "5", "--burst", "10")
    issued = cli("token", "issue", "--tenant", name, "--scopes", "run,logs", "--expires-in", "1h")
    shown = cli("tenants", "get", name, "--token", issued.out.strip(), "--admin-key", "")
    bad_scope = cli("token", "issue", "--tenant", name, "--scopes", "run,admin")
    deleted = cli("tenants", "delete", name, "--yes")

    assert created.status == 0 and f"Created tenant {name}: 5/s (burst 10)" in created.out
    assert issued.status == 0 and issued.out.count(".") == 2
    assert shown.status == 0 and "rate limit:  5/s, burst 10" in shown.out
    assert bad_scope.status == 2 and "'--scopes'" in bad_scope.err
    assert deleted.status == 0


def test_the_tenant_comes_from_the_token_when_not_given(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", "module.exports = function (cb) { cb(null, 1); };", token)

    listed = cli("functions", "list", "--json")

    assert listed.json()["tenant"] == cli.tenant


def test_completion_scripts(cli: Cli) -> None:
    bash = cli("completion", "bash")
    unknown = cli("completion", "tcsh")

    assert bash.status == 0 and "_WASMTASK_COMPLETE" in bash.out
    assert unknown.status == 2
    completed = cli.process(env={"_WASMTASK_COMPLETE": "bash_complete", "COMP_WORDS": "wasmtask dep",
                                 "COMP_CWORD": "1"})
    assert "deploy" in completed.out
