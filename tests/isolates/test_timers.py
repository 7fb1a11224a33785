"""setTimeout and setInterval: virtual time, clamped as HTML says, robust to a throwing callback."""

from __future__ import annotations

from tests.isolates.conftest import run_js


def test_a_throwing_timer_is_logged_and_later_timers_still_run() -> None:
    result = run_js(
        "module.exports = function (cb) { setTimeout(() => { throw new Error('first'); }, 1);"
        " setTimeout(() => cb(null, 'second ran'), 2); };"
    )
    assert result.value == "second ran"
    assert [(r.level, r.msg.splitlines()[0]) for r in result.logs] == [("error", "Uncaught Error: first")]


def test_delays_wrap_to_32_bits_and_negative_is_zero() -> None:
    result = run_js(
        "module.exports = function (cb) { const order = [];"
        " setTimeout(() => order.push('ten'), 10); setTimeout(() => order.push('2**32+5'), 2 ** 32 + 5);"
        " setTimeout(() => order.push('negative'), -100); setTimeout(() => order.push('NaN'), NaN);"
        " setTimeout(() => cb(null, order), 50); };"
    )
    assert result.value == ["negative", "NaN", "2**32+5", "ten"]


def test_timers_nested_more_than_five_deep_wait_at_least_4ms() -> None:
    result = run_js(
        "module.exports = function (cb) { const order = []; setTimeout(() => order.push('3ms'), 3); let depth = 0;"
        " (function next() { setTimeout(() => { order.push(++depth); if (depth < 7) next(); else cb(null, order); }, 0); })(); };"
    )
    assert result.value == [1, 2, 3, 4, 5, 6, "3ms", 7]


def test_interval_repeats_until_cleared() -> None:
    result = run_js(
        "module.exports = function (cb) { let n = 0; const id = setInterval(() => { if (++n === 3) { clearInterval(id); cb(null, n); } }, 5); };"
    )
    assert result.value == 3
