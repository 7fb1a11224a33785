"""Each thing a new user hit (issue 15, "Why"), now a clear message with a stable code and exit status."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.gateway.cli.support import Cli, process_env
from tests.gateway.support import REPO, Api

WORKER = """export default {
  async fetch(request, env) {
    return Response.json({ hello: new URL(request.url).searchParams.get("name"), key: env.KEY ?? null });
  },
};
"""
SYNTAX_ERROR = "module.exports = function (cb) {\n  cb(null, 1\n};\n"


def test_functions_get_without_a_name_is_a_usage_error_not_a_traceback(cli: Cli) -> None:
    ran = cli.process("functions", "get", "-t", cli.tenant)

    assert ran.status == 2
    assert "which function?" in ran.err and "Traceback" not in ran.err


def test_output_into_a_closed_pipe_ends_quietly(cli: Cli, api: Api, token: dict) -> None:
    api.deployed(cli.tenant, "f", WORKER, token)
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "functions", "get", "f", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=process_env(cli.env), cwd=cli.cwd)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head` that has read enough: the CLI writes after its request, into no one

    status = process.wait(timeout=60)
    err = process.stderr.read().decode()

    assert status == 141 and "Traceback" not in err and "BrokenPipe" not in err


def test_tenants_create_without_a_name_creates_nothing(cli: Cli, api: Api) -> None:
    ran = cli("tenants", "create")

    assert ran.status == 2 and "Missing argument 'NAME'" in ran.err
    names = [t["name"] for t in api.control.get("/api/tenants", headers=api.admin).json()["tenants"]]
    assert "none" not in names and "None" not in names


def test_durations_and_sizes_need_units_and_bad_values_name_the_flag_with_an_example(cli: Cli) -> None:
    bare = cli("run", "x.js", "--timeout", "2")
    junk = cli("run", "x.js", "--timeout", "abc")
    memory = cli("deploy", "x.js", "--memory", "64")
    port = cli("dev", "--port", "http")

    assert bare.status == 2 and "'--timeout': '2' has no unit: write 2s or 2ms" in bare.err
    assert junk.status == 2 and "'--timeout': 'abc' is not a duration (e.g. 2s, 500ms, 1m)" in junk.err
    assert memory.status == 2 and "'--memory': '64' has no unit: write 64MiB" in memory.err
    assert port.status == 2 and "'--port'" in port.err
    assert "parse_duration_ms" not in bare.err + junk.err


def test_a_mistyped_command_gets_a_suggestion(cli: Cli) -> None:
    ran = cli("deplyo")
    sub = cli("functions", "lst")

    assert ran.status == 2 and "No such command 'deplyo'. Did you mean 'deploy'?" in ran.err
    assert sub.status == 2 and "'list'" in sub.err


def test_version(cli: Cli) -> None:
    ran = cli.process("--version")

    assert ran.status == 0 and ran.out.startswith("wasmtask ")


def test_run_prints_the_logs_when_the_call_fails(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "fails.js").write_text(
        "module.exports = function (cb) {\n  console.log('before the fall');\n  null.x;\n};\n")

    ran = cli("run", "fails.js")

    assert ran.status == 1
    assert "INFO  before the fall" in ran.err
    assert "fails.js:3:3: guest_error: TypeError: cannot read property 'x' of null" in ran.err
    assert ran.json()["error"]["location"] == {"file": "fails.js", "line": 3, "column": 3}


def test_a_syntax_error_has_the_users_file_line_and_column_in_run_and_deploy(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "broken.js").write_text(SYNTAX_ERROR)

    ran = cli("run", "broken.js")
    deployed = cli("deploy", "broken.js", "--name", "broken")

    assert ran.status == 1 and "broken.js:3:1: invalid_code: SyntaxError: Unexpected token '}'" in ran.err
    assert deployed.status == 1
    assert "error: broken.js:3:1: invalid_code: SyntaxError: Unexpected token '}'" in deployed.err
    assert "index.js" not in ran.err + deployed.err


def test_compile_errors_name_the_users_c_file(cli: Cli, tmp_path: Path) -> None:
    source = f"/* {uuid.uuid4()} */\n#include \"wasmtask.h\"\nint x = ;\n"
    (tmp_path / "broken.c").write_text(source)

    ran = cli("run", "broken.c")
    deployed = cli("deploy", "broken.c", "--json")

    assert ran.status == 1 and "broken.c:3:9: error: expected expression" in ran.err and "main.c" not in ran.err
    error = deployed.json()["error"]
    assert deployed.status == 1 and error["code"] == "invalid_code"
    assert error["location"] == {"file": "broken.c", "line": 3, "column": 9}
    assert "main.c" not in error["message"]


def test_a_workers_response_body_is_json_not_an_escaped_string(cli: Cli, api: Api, token: dict) -> None:
    ran = cli("run", str(REPO / "examples" / "worker.js"), "-q", "name=ada")
    api.deployed(cli.tenant, "w", WORKER, token)
    invoked = cli("invoke", "w", "-q", "name=ada", "--json")

    assert ran.status == 0 and ran.json()["body"]["message"] == "Hello, ada!"
    assert invoked.json()["status"] == 200 and invoked.json()["body"] == {"hello": "ada", "key": None}


def test_version_numbers_count_per_function(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "one.js").write_text(WORKER)

    first = cli("deploy", "one.js", "--name", "a", "--json").json()
    other = cli("deploy", "one.js", "--name", "b", "--json").json()
    again = cli("deploy", "one.js", "--name", "a", "--json").json()

    assert (first["version"], other["version"], again["version"]) == ("v1", "v1", "v2")


def test_a_missing_toolchain_is_language_unavailable_naming_what_to_install(cli: Cli, tmp_path: Path,
                                                                           monkeypatch: object) -> None:
    cli.monkeypatch.setenv("WASMTASK_RUSTC", "/nonexistent/rustc")  # the gateway runs in this process
    (tmp_path / "hello.rs").write_text("fn main() {}\n")

    ran = cli("deploy", "hello.rs")

    assert ran.status == 1
    assert "error: language_unavailable: this server cannot build rust" in ran.err
    assert "apt-get install rustc" in ran.err and "(HTTP 503" in ran.err


def test_a_slow_build_says_what_it_does_and_how_long_it_took(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "slow.c").write_text(f"/* {uuid.uuid4()} */\n" + (REPO / "examples" / "c" / "hello.c").read_text())

    ran = cli("deploy", "slow.c", "--name", "slow")
    local = cli("run", str(tmp_path / "slow.c"))  # cached by now: no progress line

    assert ran.status == 0
    assert "building slow.c (c) on the gateway ..." in ran.err and "done in" in ran.err
    assert local.status == 0 and "building" not in local.err


def test_run_and_invoke_take_the_same_body_flags_and_stdin(cli: Cli, api: Api, token: dict, tmp_path: Path) -> None:
    echo = "module.exports = function (ctx, cb) { cb(null, {body: ctx.body, raw: ctx.body_raw}); };"
    (tmp_path / "echo.js").write_text(echo)
    api.deployed(cli.tenant, "echo", echo, token)

    raw = cli("run", "echo.js", "-d", "plain text")
    json_body = cli("run", "echo.js", "--body", '{"x": 1}')
    not_json = cli("run", "echo.js", "--body", "{x")
    invoked = cli("invoke", "echo", "--body", '{"x": 2}')
    from_stdin = cli("run", "-", stdin=echo)
    deployed = cli("deploy", "-", "--name", "piped", "--json", stdin=echo)

    assert raw.json()["raw"] == "plain text"
    assert json_body.json()["body"] == {"x": 1}
    assert not_json.status == 2 and "'--body': not JSON" in not_json.err
    assert invoked.json()["body"] == {"x": 2}
    assert from_stdin.status == 0 and from_stdin.json() == {"raw": None}  # no body: ctx.body is undefined
    assert deployed.status == 0 and deployed.json()["version"] == "v1"


def test_errors_are_one_line_with_a_hint_and_exit_codes_say_why(cli: Cli) -> None:
    unauthorized = cli("functions", "list", "-t", cli.tenant, "--token", "not.a.token")
    unreachable = cli("functions", "list", "--url", "http://127.0.0.1:9")
    as_json = cli("functions", "list", "--url", "http://127.0.0.1:9", "--json")

    assert unauthorized.status == 1 and unauthorized.err.startswith("error: unauthorized: ")
    assert "hint: check --token" in unauthorized.err
    assert unreachable.status == 3 and "cannot reach the gateway at http://127.0.0.1:9" in unreachable.err
    assert "make serve" in unreachable.err
    assert as_json.status == 3 and as_json.json()["error"]["code"] == "unreachable"
