"""Short calls run on the event loop under capped fuel; longer ones fall back unseen."""

from __future__ import annotations

import pytest

from gateway.inline import INLINE_FUEL, InlinePolicy, attempt_inline
from host_api.log import CallLog
from host_api.request import guest_request
from isolates import CpuLimitExceeded, GuestError, Limits, prepare

SHORT = "module.exports = function (cb) { console.log('short'); cb(null, 'quick'); };"
LONG = """module.exports = function (cb) {
  console.log('started');
  let n = 0; for (let i = 0; i < 300000; i++) n = (n * 31 + i) % 1000003;
  cb(null, n);
};"""


def new_log(limits: Limits) -> CallLog:
    return CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines, request_id="r1")


def test_a_short_call_counts_and_its_logs_are_kept() -> None:
    limits = Limits()
    log = new_log(limits)
    result = attempt_inline(prepare("javascript", SHORT, limits), guest_request(), limits, log)
    assert result is not None and result.value == "quick"
    assert [r.msg for r in log.records] == ["short"]


def test_a_call_over_the_inline_cap_is_dropped_unseen() -> None:
    limits = Limits()
    assert limits.fuel > INLINE_FUEL
    log = new_log(limits)
    assert attempt_inline(prepare("javascript", LONG, limits), guest_request(), limits, log) is None
    assert log.records == []  # 'started' was only buffered: the real run logs it once


def test_a_function_whose_own_limit_is_the_cap_gets_its_error() -> None:
    limits = Limits(fuel=INLINE_FUEL // 2)
    log = new_log(limits)
    with pytest.raises(CpuLimitExceeded):
        attempt_inline(prepare("javascript", LONG, limits), guest_request(), limits, log)
    assert [r.msg for r in log.records] == ["started"]


def test_guest_errors_inline_are_the_calls_result() -> None:
    limits = Limits()
    with pytest.raises(GuestError):
        attempt_inline(prepare("javascript", "module.exports = function (cb) { cb(new Error('x')); };", limits),
                       guest_request(), limits, new_log(limits))


def test_functions_that_may_fetch_or_proved_slow_never_run_inline() -> None:
    policy = InlinePolicy()
    program = prepare("javascript", SHORT, Limits())
    key = ("t", "f", "v1")
    assert policy.eligible(program, key, ())
    assert not policy.eligible(program, key, ("https://api.example.com",))
    policy.mark_slow(key)
    assert not policy.eligible(program, key, ())
