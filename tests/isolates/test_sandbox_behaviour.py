"""Out of memory anywhere is memory_limit; the Headers/Response details WPT checks."""

from __future__ import annotations

import pytest

from isolates import GuestError, Limits, MemoryLimitExceeded
from tests.isolates.conftest import run_js, value_of

TIGHT = Limits(fuel=400_000_000, memory_bytes=24 * 1024 * 1024, wall_clock_ms=10_000, output_bytes=64 * 1024 * 1024)



def test_out_of_memory_in_a_promise_job_is_memory_limit() -> None:
    with pytest.raises(MemoryLimitExceeded):
        run_js(
            "module.exports = function (cb) { Promise.resolve().then(() => { const a = []; for (;;) a.push(new Uint8Array(4 << 20)); }); };",
            limits=TIGHT,
        )


def test_out_of_memory_while_serializing_the_result_is_memory_limit() -> None:
    with pytest.raises(MemoryLimitExceeded):
        run_js(
            "module.exports = function (cb) { const s = 'x'.repeat(1 << 20); const a = []; for (let i = 0; i < 7; i++) a.push(s + i); cb(null, a); };",
            limits=Limits(fuel=1_000_000_000, memory_bytes=24 * 1024 * 1024, wall_clock_ms=20_000, output_bytes=64 * 1024 * 1024),
        )


def test_an_error_in_an_unawaited_job_still_ends_as_never_completed() -> None:
    with pytest.raises(GuestError) as caught:
        run_js("module.exports = function (cb) { Promise.resolve().then(() => { throw new Error('lost'); }); };")
    assert "never completed" in caught.value.message


def test_headers_refuse_null_bad_pairs_and_bytes_above_ff() -> None:
    assert value_of(
        "(() => [null, 1, [['a']], [['a', 'b', 'c']], [['x', '\\u0100']], { 'bad name': 'v' }].map((init) => {"
        " try { new Headers(init); return 'accepted'; } catch (e) { return e.name; } }))()"
    ) == ["TypeError"] * 6


def test_header_iterators_are_live_and_have_their_own_prototype() -> None:
    assert value_of(
        "(() => { const h = new Headers({ b: '2', a: '1', c: '3' }); const seen = [];"
        " for (const [k] of h) { seen.push(k); if (k === 'a') h.delete('c'); }"
        " const it = h.keys(); return [seen, Object.prototype.toString.call(it),"
        " Object.getPrototypeOf(Object.getPrototypeOf(it)) === Object.getPrototypeOf(Object.getPrototypeOf([].keys()))]; })()"
    ) == [["a", "b"], "[object Headers Iterator]", True]


def test_response_error_has_immutable_headers_and_json_refuses_symbols() -> None:
    assert value_of(
        "(() => { const out = []; const r = Response.error(); out.push(r.status, r.type);"
        " try { r.headers.set('a', 'b'); } catch (e) { out.push(e.name); }"
        " try { Response.json(Symbol()); } catch (e) { out.push(e.name); } return out; })()"
    ) == [0, "error", "TypeError", "TypeError"]


def test_request_init_is_validated_as_the_fetch_standard_says() -> None:
    assert value_of(
        "(() => [{ method: 'TRACE' }, { method: 'GET', body: 'x' }, { mode: 'navigate' }, { cache: 'only-if-cached' },"
        " { body: new ReadableStream(), method: 'POST' }, { window: 1 }].map((init) => {"
        " try { new Request('http://example.com/', init); return 'accepted'; } catch (e) { return e.name; } }))()"
    ) == ["TypeError"] * 6


def test_get_random_values_over_65536_bytes_is_a_quota_exceeded_error() -> None:
    assert value_of(
        "(() => { try { crypto.getRandomValues(new Uint8Array(65537)); return 'filled'; } catch (e) { return [e.name, e instanceof DOMException]; } })()"
    ) == ["QuotaExceededError", True]
