"""fetch() without the network: data: URLs, and AbortSignal."""

from __future__ import annotations

from tests.isolates.conftest import value_of


def test_data_url_is_answered_in_the_sandbox() -> None:
    assert value_of(
        "(async () => { const r = await fetch('data:text/plain;charset=utf-8,hello%20world');"
        " return [r.status, r.statusText, r.headers.get('content-type'), await r.text()]; })()"
    ) == [200, "OK", "text/plain;charset=utf-8", "hello world"]


def test_base64_data_url_and_the_default_type() -> None:
    assert value_of(
        "(async () => { const r = await fetch('data:;base64,aGk='); return [r.headers.get('content-type'), await r.text()]; })()"
    ) == ["text/plain;charset=US-ASCII", "hi"]


def test_bad_data_url_is_a_network_error() -> None:
    assert value_of("fetch('data:;base64,%').then(() => 'ok', (e) => e.name)") == "TypeError"


def test_an_aborted_signal_rejects_fetch_with_its_reason() -> None:
    assert value_of(
        "(async () => { const out = []; const c = new AbortController(); c.abort();"
        " await fetch('data:,x', { signal: c.signal }).catch((e) => out.push(e.name));"
        " const d = new AbortController(); const p = fetch('data:,x', { signal: d.signal }); d.abort('later');"
        " await p.catch((e) => out.push(e)); return out; })()"
    ) == ["AbortError", "later"]


def test_an_abort_after_the_response_errors_its_body() -> None:
    assert value_of(
        "(async () => { const c = new AbortController(); const r = await fetch('data:,x', { signal: c.signal }); c.abort();"
        " return r.text().catch((e) => e.name); })()"
    ) == "AbortError"
