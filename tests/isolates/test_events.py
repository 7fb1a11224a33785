"""Event, EventTarget, AbortController and AbortSignal, performance: the DOM as WPT tests it."""

from __future__ import annotations

from tests.isolates.conftest import run_js, value_of


def test_listeners_run_in_order_capture_first_at_the_target() -> None:
    assert value_of(
        "(() => { const t = new EventTarget(), seen = [];"
        " t.addEventListener('x', () => seen.push('bubble'));"
        " t.addEventListener('x', () => seen.push('capture'), true);"
        " t.addEventListener('x', { handleEvent(e) { seen.push('object ' + e.eventPhase); } });"
        " return [t.dispatchEvent(new Event('x')), seen]; })()"
    ) == [True, ["capture", "bubble", "object 2"]]


def test_once_passive_and_prevent_default() -> None:
    assert value_of(
        "(() => { const t = new EventTarget(); let n = 0;"
        " t.addEventListener('x', (e) => { n++; e.preventDefault(); }, { once: true, passive: true });"
        " const first = t.dispatchEvent(new Event('x', { cancelable: true }));"
        " t.addEventListener('x', (e) => e.preventDefault());"
        " const second = t.dispatchEvent(new Event('x', { cancelable: true }));"
        " return [n, first, second]; })()"
    ) == [1, True, False]


def test_a_throwing_listener_is_reported_and_the_others_still_run() -> None:
    result = run_js(
        "module.exports = function (cb) { const t = new EventTarget(), seen = [];"
        " t.addEventListener('x', () => { throw new Error('listener broke'); });"
        " t.addEventListener('x', () => seen.push('second'));"
        " t.dispatchEvent(new Event('x')); cb(null, seen); };"
    )
    assert result.value == ["second"]
    assert [(r.level, r.msg.splitlines()[0]) for r in result.logs] == [("error", "Uncaught Error: listener broke")]


def test_abort_controller_fires_abort_once_with_an_abort_error() -> None:
    assert value_of(
        "(() => { const c = new AbortController(), seen = [];"
        " c.signal.onabort = (e) => seen.push(e.type + ' ' + e.isTrusted);"
        " c.abort(); c.abort('again');"
        " return [seen, c.signal.aborted, c.signal.reason.name, c.signal.reason instanceof DOMException]; })()"
    ) == [["abort true"], True, "AbortError", True]


def test_abort_signal_timeout_fires_in_virtual_time() -> None:
    assert value_of(
        "new Promise((resolve) => { const s = AbortSignal.timeout(60000);"
        " s.addEventListener('abort', () => resolve([s.aborted, s.reason.name])); })"
    ) == [True, "TimeoutError"]


def test_abort_signal_any_follows_its_sources() -> None:
    assert value_of(
        "(() => { const a = new AbortController(), b = new AbortController();"
        " const any = AbortSignal.any([a.signal, b.signal]); const before = any.aborted;"
        " b.abort('b went'); return [before, any.aborted, any.reason, AbortSignal.any([AbortSignal.abort(1)]).reason]; })()"
    ) == [False, True, "b went", 1]


def test_throw_if_aborted_and_illegal_constructor() -> None:
    assert value_of(
        "(() => { const out = []; try { AbortSignal.abort('why').throwIfAborted(); } catch (e) { out.push(e); }"
        " try { new AbortSignal(); } catch (e) { out.push(e.name); } return out; })()"
    ) == ["why", "TypeError"]


def test_a_listener_added_with_an_aborted_signal_is_removed() -> None:
    assert value_of(
        "(() => { const t = new EventTarget(), c = new AbortController(); let n = 0;"
        " t.addEventListener('x', () => n++, { signal: c.signal }); t.dispatchEvent(new Event('x'));"
        " c.abort(); t.dispatchEvent(new Event('x')); return n; })()"
    ) == 1


def test_performance_is_an_event_target_with_a_time_origin() -> None:
    assert value_of(
        "(() => [performance instanceof EventTarget, String(performance), performance.now() >= 0,"
        " Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 1000, Object.keys(performance.toJSON())])()"
    ) == [True, "[object Performance]", True, True, ["timeOrigin"]]


def test_custom_event_carries_its_detail() -> None:
    assert value_of("new CustomEvent('c', { detail: { n: 1 } }).detail.n") == 1
