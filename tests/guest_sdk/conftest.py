"""Guest SDK tests: build each language's guest with its SDK, then invoke it like a deployed function.

Builds are cached on disk by source hash (under $WASMTASK_CACHE_DIR/guests), so
only the first run pays for compilers. A language whose toolchain is missing is
skipped locally (with the reason) but fails in CI (env CI set): CI must run
`make toolchains`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from guest_sdk.toolchains import TOOLCHAINS
from host_api.log import CallLog
from host_api.request import guest_request
from isolates import InvokeResult, IsolateError, Limits, Program, invoke, prepare

# Enough fuel that a bomb meets the memory limit before the CPU limit, and a small memory limit.
LIMITS = Limits(fuel=2_000_000_000, memory_bytes=48 * 1024 * 1024, wall_clock_ms=10_000)

_programs: dict[tuple[str, str], Program] = {}


def require_toolchain(language: str) -> None:
    """Skip (locally) or fail (in CI) when this machine cannot build ``language``."""
    if language not in TOOLCHAINS:
        return
    reason = TOOLCHAINS[language].missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the {language} toolchain is missing in CI: {reason}; run `make toolchains`")
    pytest.skip(f"the {language} toolchain is missing: {reason}; run `make toolchains`")


def program(language: str, source: str) -> Program:
    """The deployed program for ``source`` (prepared once per test session)."""
    require_toolchain(language)
    key = (language, source)
    if key not in _programs:
        _programs[key] = prepare(language, source, LIMITS)
    return _programs[key]


def fake_fetcher(request: dict[str, Any]) -> dict[str, Any]:
    """The host's fetch, without a network: denies *.denied.test, answers everything else."""
    if "denied" in request["url"]:
        return {"ok": False, "error": {"code": "egress_denied", "message": "not on the allow-list"}}
    return {
        "ok": True,
        "status": 200,
        "statusText": "OK",
        "headers": [["content-type", "text/plain"]],
        "url": request["url"],
        "redirected": False,
        "body": f"upstream saw {request.get('method', 'GET')} {request['url']}",
    }


def run(
    language: str,
    source: str,
    *,
    limits: Limits = LIMITS,
    log: CallLog | None = None,
    **request: Any,
) -> InvokeResult:
    return invoke(program(language, source), guest_request(**request), limits, log=log, fetcher=fake_fetcher)


def expect_error(language: str, source: str, code: str, *, limits: Limits = LIMITS, **request: Any) -> IsolateError:
    log = CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines)
    with pytest.raises(IsolateError) as caught:
        run(language, source, limits=limits, log=log, **request)
    assert caught.value.code == code, f"{caught.value!r}; logs: {[r.msg for r in log.records]}"
    caught.value.logs = log.records  # type: ignore[attr-defined]
    return caught.value
