"""The `wasmtask` command line: the argparse front, one ``cmd_*`` function per command.

The commands that need the server's or the engine's code import it when they
run (``run``: the toolchains; ``serve``: uvicorn and the app; ``invoke --logs``
and ``logs``: the call path, Starlette), so ``wasmtask --help`` and the other
commands do not load it.
"""

from __future__ import annotations

import argparse
import base64
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from gateway.cli.client import DEFAULT_URL, ApiClient, ApiError
from gateway.cli.client import path as api_path
from gateway.config import Settings, parse_workers
from isolates.languages import LANGUAGES, language_for_file
from isolates.limits import Limits, parse_duration_ms, parse_size


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected k=v, got {text!r}")
    return key, value


def _header(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return key.strip(), value.strip()


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fuel", type=int, help="fuel units (CPU budget)")
    parser.add_argument("--memory", type=parse_size, help="memory cap, e.g. 64MiB")
    parser.add_argument("--timeout", type=parse_duration_ms, help="wall-clock limit, e.g. 2s or 500ms")


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits().with_overrides(fuel=args.fuel, memory_bytes=args.memory, wall_clock_ms=args.timeout)


def cmd_run(args: argparse.Namespace) -> int:
    from gateway.cli.local_run import run_file  # here, not at the top: start-up time (the toolchains)

    body: bytes | None = None
    if args.body is not None:
        try:
            orjson.loads(args.body)
        except orjson.JSONDecodeError as exc:
            print(f'{{"error": {{"code": "invalid_request", "message": "--body is not JSON: {exc}"}}}}')
            return 2
        body = args.body.encode()
    headers = list(args.header or [])
    if body is not None and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    path = Path(args.file)
    if not path.exists():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    return run_file(
        path,
        query=list(args.query or []),
        headers=headers,
        body=body,
        method=args.method or ("POST" if body is not None else "GET"),
        limits=limits_from(args),
    )


def _client(args: argparse.Namespace, *, admin: bool = False) -> ApiClient:
    if admin:
        token = args.admin_key or os.environ.get("WASMTASK_ADMIN_KEY")
    else:
        token = args.token or os.environ.get("WASMTASK_TOKEN") or os.environ.get("WASMTASK_ADMIN_KEY")
    return ApiClient(args.url, token)


def _print_json(value: object) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _api(call: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn an ApiError into one line on stderr and exit status 1."""

    @functools.wraps(call)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return call(args)
        except ApiError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1

    return wrapper


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.cli.server import serve  # here, not at the top: start-up time (uvicorn, the app)

    settings = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None,
                                 workers=parse_workers(args.workers) if args.workers else None)
    return serve(settings, args.host, args.port, demo=not args.no_demo)


@_api
def cmd_deploy(args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.exists():
        print(f"error: {source}: no such file", file=sys.stderr)
        return 2
    language = args.language or language_for_file(source.name)
    code = source.read_bytes()
    body: dict[str, object] = {"language": language}
    if language == "wasm" and code.startswith(b"\0asm"):
        body["code_base64"] = base64.b64encode(code).decode()
    else:
        body["code"] = code.decode("utf-8")
    limits = {k: v for k, v in (("fuel", args.fuel), ("memory_bytes", args.memory), ("wall_clock_ms", args.timeout))
              if v is not None}
    if limits:
        body["limits"] = limits
    if args.secret is not None:
        body["secrets"] = dict(args.secret)
    if args.env:
        body["env"] = dict(args.env)
    if args.allow:
        body["allowed_hosts"] = list(args.allow)
    if args.auth:
        body["auth"] = args.auth
    with _client(args) as client:
        _print_json(client.json("PUT", api_path("api", "functions", args.tenant, args.name), json=body))
    return 0


@_api
def cmd_invoke(args: argparse.Namespace) -> int:
    from gateway.calls import logs_header  # here, not at the top: start-up time (the whole call path)

    url = api_path("run", args.tenant, args.name) + ("/" + args.path.lstrip("/") if args.path else "")
    headers = dict(args.header or [])
    content: bytes | None = None
    if args.data is not None:
        content = Path(args.data[1:]).read_bytes() if args.data.startswith("@") else args.data.encode()
    method = args.method or ("POST" if content is not None else "GET")
    if args.logs:
        headers[logs_header.LOGS_HEADER] = "1"
    with _client(args) as client:
        response = client.send(method, url, params=list(args.query or []), headers=headers, content=content)
    if args.include:
        print(f"HTTP {response.status_code}", file=sys.stderr)
        for name, value in response.headers.items():
            print(f"{name}: {value}", file=sys.stderr)
    if args.logs and logs_header.LOGS_HEADER in response.headers:
        from gateway.logs import format_record  # here, not at the top: start-up time (Starlette)

        shown = logs_header.decode(response.headers[logs_header.LOGS_HEADER])
        for record in shown["records"]:
            print(format_record(record), file=sys.stderr)
        if shown["dropped"]:
            print(f"({shown['dropped']} log lines dropped: over the per-call log limit)", file=sys.stderr)
    sys.stdout.write(response.text)
    if response.text and not response.text.endswith("\n"):
        sys.stdout.write("\n")
    return 0 if response.status_code < 400 else 1


@_api
def cmd_functions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.action == "list":
            _print_json(client.json("GET", api_path("api", "functions", args.tenant)))
        elif args.action == "get":
            _print_json(client.json("GET", api_path("api", "functions", args.tenant, args.name)))
        else:
            _print_json(client.json("DELETE", api_path("api", "functions", args.tenant, args.name)))
    return 0


@_api
def cmd_tenants(args: argparse.Namespace) -> int:
    with _client(args, admin=True) as client:
        if args.action == "list":
            _print_json(client.json("GET", "/api/tenants"))
            return 0
        body: dict[str, object] = {"name": args.name}
        rate = {k: v for k, v in (("per_second", args.rate), ("burst", args.burst)) if v is not None}
        if rate:
            body["rate_limit"] = rate
        if args.concurrency is not None:
            body["concurrency"] = args.concurrency
        _print_json(client.json("POST", "/api/tenants", json=body))
    return 0


@_api
def cmd_token(args: argparse.Namespace) -> int:
    body: dict[str, object] = {"tenant": args.tenant, "scopes": args.scopes.split(",")}
    if args.expires_in is not None:
        body["expires_in"] = args.expires_in
    with _client(args, admin=True) as client:
        answer = client.json("POST", "/api/tokens", json=body)
    print(answer["token"])
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from gateway.logs import follow_logs  # here, not at the top: start-up time (Starlette)

    token = args.token or os.environ.get("WASMTASK_TOKEN") or os.environ.get("WASMTASK_ADMIN_KEY")
    if not token:
        print("error: no token: pass --token or set WASMTASK_TOKEN", file=sys.stderr)
        return 2
    url = args.url or os.environ.get("WASMTASK_URL") or DEFAULT_URL
    return follow_logs(url, args.tenant, token)


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="gateway URL (env WASMTASK_URL, default http://127.0.0.1:8080)")
    common.add_argument("--token", help="tenant token (env WASMTASK_TOKEN)")
    common.add_argument("--admin-key", help="admin key, for tenants and tokens (env WASMTASK_ADMIN_KEY)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmtask", description="Run untrusted code in fresh WebAssembly isolates.")
    commands = parser.add_subparsers(dest="command", required=True)
    common = _connection_options()

    run = commands.add_parser("run", help="run a local file once in a fresh isolate")
    run.add_argument("file")
    run.add_argument("--query", "-q", action="append", type=_pair, metavar="K=V")
    run.add_argument("--header", "-H", action="append", type=_header, metavar="'NAME: VALUE'")
    run.add_argument("--body", help="request body (JSON)")
    run.add_argument("--method", "-X")
    add_limit_options(run)
    run.set_defaults(handler=cmd_run)

    serve = commands.add_parser("serve", help="run the gateway (HTTP API and edge endpoints)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir", help="registry and keys (env WASMTASK_DATA_DIR, default ./data)")
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo tenant or print its token")
    serve.add_argument("--workers", metavar="N",
                       help="gateway processes sharing the port: a number or 'auto' (one per CPU); "
                            "more than 1 needs Redis (env WASMTASK_WORKERS, default 1)")
    serve.set_defaults(handler=cmd_serve)

    deploy = commands.add_parser("deploy", parents=[common], help="deploy a file as a named function")
    deploy.add_argument("file")
    deploy.add_argument("--tenant", "-t", required=True)
    deploy.add_argument("--name", "-n", required=True)
    deploy.add_argument("--language", choices=list(LANGUAGES), help="default: from the file's suffix")
    deploy.add_argument("--secret", "-s", action="append", type=_pair, metavar="K=V",
                        help="a secret (repeatable); without any, the current secrets are kept")
    deploy.add_argument("--env", "-e", action="append", type=_pair, metavar="K=V", help="a plain variable")
    deploy.add_argument("--allow", action="append", metavar="HOST", help="an allowed outbound host (repeatable)")
    deploy.add_argument("--auth", choices=["public", "token"], help="who may call the edge endpoint")
    add_limit_options(deploy)
    deploy.set_defaults(handler=cmd_deploy)

    invoke = commands.add_parser("invoke", parents=[common], help="call a deployed function's edge endpoint")
    invoke.add_argument("--tenant", "-t", required=True)
    invoke.add_argument("--name", "-n", required=True)
    invoke.add_argument("--path", "-p", help="the path below the function, e.g. /items/7")
    invoke.add_argument("--query", "-q", action="append", type=_pair, metavar="K=V")
    invoke.add_argument("--header", "-H", action="append", type=_header, metavar="'NAME: VALUE'")
    invoke.add_argument("--data", "-d", help="request body, or @FILE")
    invoke.add_argument("--method", "-X")
    invoke.add_argument("--include", "-i", action="store_true", help="print the status and headers on stderr")
    invoke.add_argument("--logs", "-l", action="store_true",
                        help="print the call's own log lines on stderr (needs a token with the logs scope)")
    invoke.set_defaults(handler=cmd_invoke)

    functions = commands.add_parser("functions", parents=[common], help="list, show or delete functions")
    functions.add_argument("action", choices=["list", "get", "delete"])
    functions.add_argument("--tenant", "-t", required=True)
    functions.add_argument("--name", "-n")
    functions.set_defaults(handler=cmd_functions)

    tenants = commands.add_parser("tenants", parents=[common], help="create or list tenants (admin key)")
    tenants.add_argument("action", choices=["create", "list"])
    tenants.add_argument("name", nargs="?")
    tenants.add_argument("--rate", type=float, help="requests per second")
    tenants.add_argument("--burst", type=int, help="token bucket size")
    tenants.add_argument("--concurrency", type=int, help="calls in flight at once")
    tenants.set_defaults(handler=cmd_tenants)

    token = commands.add_parser("token", parents=[common], help="issue a tenant token (admin key)")
    token.add_argument("action", choices=["issue"])
    token.add_argument("--tenant", "-t", required=True)
    token.add_argument("--scopes", default="run,deploy,logs", help="comma-separated: run,deploy,logs")
    token.add_argument("--expires-in", type=int, help="seconds (default one day)")
    token.set_defaults(handler=cmd_token)

    logs = commands.add_parser("logs", parents=[common], help="follow a tenant's live logs")
    logs.add_argument("--tenant", "-t", required=True)
    logs.set_defaults(handler=cmd_logs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)
