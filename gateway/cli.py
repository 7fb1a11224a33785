"""The `wasmtask` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    import orjson

    from gateway.local_run import run_file

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmtask", description="Run untrusted code in fresh WebAssembly isolates.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a local file once in a fresh isolate")
    run.add_argument("file")
    run.add_argument("--query", "-q", action="append", type=_pair, metavar="K=V")
    run.add_argument("--header", "-H", action="append", type=_header, metavar="'NAME: VALUE'")
    run.add_argument("--body", help="request body (JSON)")
    run.add_argument("--method", "-X")
    add_limit_options(run)
    run.set_defaults(handler=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
