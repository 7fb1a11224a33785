from __future__ import annotations

from typing import Any

import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvokeResult, Limits, prepare, run


def run_js(
    source: str,
    *,
    snapshot: bool = True,
    limits: Limits | None = None,
    **request: Any,
) -> InvokeResult:
    limits = limits or Limits()
    program = prepare("javascript", source, limits, snapshot=snapshot)
    return run(program, guest_request(**request), CallSpec(limits=limits))


@pytest.fixture(params=[True, False], ids=["snapshot", "fresh"])
def snapshot(request: pytest.FixtureRequest) -> bool:
    """Run a test both from a deploy-time snapshot and with init in the call."""
    return bool(request.param)


def value_of(expression: str) -> object:
    """The value of a JS expression (awaited) computed inside a request."""
    return run_js(f"module.exports = async function (ctx, cb) {{ cb(null, await ({expression})); }};").value
