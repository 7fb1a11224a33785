"""Short calls run on the event loop under capped fuel; longer ones fall back unseen."""

from __future__ import annotations

import asyncio

import pytest

from gateway.inline import INLINE_FUEL, AfterResponse, InlinePolicy, Stopped, attempt_inline
from host_api.log import LogRecord
from host_api.request import guest_request
from isolates import CallSpec, CpuLimitExceeded, GuestError, Limits, prepare

SHORT = "module.exports = function (cb) { console.log('short'); cb(null, 'quick'); };"
LONG = """module.exports = function (cb) {
  console.log('started');
  let n = 0; for (let i = 0; i < 300000; i++) n = (n * 31 + i) % 1000003;
  cb(null, n);
};"""


def streamed_spec(limits: Limits) -> tuple[CallSpec, list[LogRecord]]:
    """A spec whose live log is a list: what reached the tenant's stream."""
    streamed: list[LogRecord] = []
    return CallSpec(limits=limits, request_id="r1", log_sink=streamed.append), streamed


def test_a_short_call_counts_and_its_logs_are_kept() -> None:
    limits = Limits()
    spec, streamed = streamed_spec(limits)
    result = attempt_inline(prepare("javascript", SHORT, limits), guest_request(), spec)
    assert not isinstance(result, Stopped) and result.value == "quick"
    assert streamed == []  # held back: the caller publishes them with the call's events, in one batch
    assert [r.msg for r in result.logs] == ["short"]


def test_a_call_over_the_inline_cap_is_dropped_unseen() -> None:
    limits = Limits()
    assert limits.fuel > INLINE_FUEL
    spec, streamed = streamed_spec(limits)
    assert attempt_inline(prepare("javascript", LONG, limits), guest_request(), spec) is Stopped.FUEL
    assert streamed == []  # 'started' was only kept back: the real run logs it once


def test_a_function_whose_own_limit_is_the_cap_gets_its_error() -> None:
    program = prepare("javascript", LONG, Limits())  # deployed with room for its top-level code
    limits = Limits(fuel=INLINE_FUEL // 2)
    spec, streamed = streamed_spec(limits)
    with pytest.raises(CpuLimitExceeded) as caught:
        attempt_inline(program, guest_request(), spec)
    assert [r.msg for r in caught.value.logs] == ["started"] and streamed == []


def test_guest_errors_inline_are_the_calls_result() -> None:
    limits = Limits()
    with pytest.raises(GuestError):
        attempt_inline(prepare("javascript", "module.exports = function (cb) { cb(new Error('x')); };", limits),
                       guest_request(), CallSpec(limits=limits))


def test_functions_that_may_fetch_or_proved_slow_never_run_inline() -> None:
    policy = InlinePolicy()
    program = prepare("javascript", SHORT, Limits())
    key = ("t", "f", "v1")
    assert policy.eligible(program, key, ())
    assert not policy.eligible(program, key, ("https://api.example.com",))
    policy.mark_slow(key)
    assert not policy.eligible(program, key, ())


def test_what_a_response_does_not_wait_for_runs_on_the_loops_next_turn_in_order() -> None:
    async def main() -> tuple[list[str], list[str]]:
        after = AfterResponse()
        done: list[str] = []
        after.defer(lambda: done.append("close store"))
        after.defer(lambda: done.append("publish logs"))
        before_turn = list(done)
        await asyncio.sleep(0)
        return before_turn, done

    before_turn, done = asyncio.run(main())

    assert before_turn == []
    assert done == ["close store", "publish logs"]


def test_back_to_back_inline_calls_hold_one_store_at_most_without_a_loop_turn() -> None:
    limits = Limits()
    program = prepare("javascript", SHORT, limits)

    async def main() -> list[int]:
        after = AfterResponse()
        waiting = []
        for _ in range(600):  # more than the pooling allocator's slots: a Store kept per call would run out
            result = attempt_inline(program, guest_request(), CallSpec(limits=limits), after)
            # a busy machine may deschedule an attempt past the inline deadline: its Store waits all the same
            assert result is Stopped.TIME or (not isinstance(result, Stopped) and result.value == "quick")
            waiting.append(len(after))
        return waiting

    assert set(asyncio.run(main())) == {1}  # each call's Store waits only until the next call starts


def test_deferred_work_that_fails_is_logged_and_the_rest_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    after = AfterResponse()
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("a bug")

    after.defer(broken)
    after.defer(lambda: done.append("close store"))  # no loop: drained at once, one at a time
    after.drain()

    assert done == ["close store"]
    assert "work deferred until after a response failed" in caplog.text
