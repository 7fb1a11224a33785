"""The Web APIs a Workers user expects, inside the sandbox."""

from __future__ import annotations

from tests.isolates.conftest import run_js, value_of


def test_url_parsing_and_search_params() -> None:
    assert value_of(
        "(() => { const u = new URL('https://User:pw@Example.com:443/a/./b/../c?x=1&y=%20z#frag');"
        " u.searchParams.append('k', 'v w');"
        " return [u.href, u.host, u.pathname, u.searchParams.get('y'), u.hash, u.origin]; })()"
    ) == [
        "https://User:pw@example.com/a/c?x=1&y=+z&k=v+w#frag",
        "example.com",
        "/a/c",
        " z",
        "#frag",
        "https://example.com",
    ]


def test_relative_urls_resolve_against_a_base() -> None:
    assert value_of("[new URL('../x?q', 'http://h/a/b/c').href, new URL('/y', 'http://h:81/a').href, new URL('//o/p', 'https://h/').href]") == [
        "http://h/a/x?q",
        "http://h:81/y",
        "https://o/p",
    ]


def test_invalid_url_throws_type_error() -> None:
    assert value_of("(() => { try { new URL('not a url'); return 'no'; } catch (e) { return e.name; } })()") == "TypeError"


def test_text_encoder_and_decoder() -> None:
    assert value_of(
        "(() => { const b = new TextEncoder().encode('héllo €'); return [Array.from(b).length,"
        " new TextDecoder().decode(b), new TextDecoder().decode(new Uint8Array([0xff, 0x41]))]; })()"
    ) == [10, "héllo €", "\ufffdA"]


def test_text_decoder_fatal_throws() -> None:
    assert value_of("(() => { try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xc3])); return 'no'; } catch (e) { return e.name; } })()") == "TypeError"


def test_atob_btoa() -> None:
    assert value_of("[btoa('hello'), atob('aGVsbG8=')]") == ["aGVsbG8=", "hello"]


def test_crypto_random_values_and_uuid() -> None:
    value = value_of(
        "(() => { const a = crypto.getRandomValues(new Uint8Array(32)); const u = crypto.randomUUID();"
        " return [a.some((x) => x !== 0), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)]; })()"
    )
    assert value == [True, True]


def test_structured_clone_deep_copies_and_keeps_cycles() -> None:
    assert value_of(
        "(() => { const o = {d: new Date(0), m: new Map([[1, {x: 1}]]), s: new Set([1]), a: [1, [2]]}; o.self = o;"
        " const c = structuredClone(o); c.a[1].push(3);"
        " return [c.self === c, c.d.getTime(), c.m.get(1).x, c.s.has(1), o.a[1].length, c !== o]; })()"
    ) == [True, 0, 1, True, 1, True]


def test_structured_clone_rejects_functions() -> None:
    assert value_of("(() => { try { structuredClone({f() {}}); return 'no'; } catch (e) { return e.name; } })()") == "DataCloneError"


def test_headers_are_case_insensitive_and_sorted() -> None:
    assert value_of(
        "(() => { const h = new Headers({'X-B': '2'}); h.append('x-a', '1'); h.append('X-A', '3');"
        " return [h.get('x-a'), h.has('X-B'), Array.from(h.keys())]; })()"
    ) == ["1, 3", True, ["x-a", "x-b"]]


def test_request_and_response_bodies() -> None:
    assert value_of(
        "(async () => { const r = new Request('http://x/', {method: 'POST', body: JSON.stringify({a: 1})});"
        " const j = await r.json(); const res = Response.json({ok: true}, {status: 201});"
        " return [j.a, r.bodyUsed, res.status, res.headers.get('content-type'), await res.text()]; })()"
    ) == [1, True, 201, "application/json", '{"ok":true}']


def test_console_levels_become_log_records() -> None:
    result = run_js(
        "module.exports = function (cb) { console.log('a', 1, {b: [2]}); console.warn('w'); console.error(new Error('e')); console.debug('%s=%d', 'x', 5); cb(null, 0); };"
    )
    assert [(r.level, r.msg.splitlines()[0]) for r in result.logs] == [
        ("info", "a 1 { b: [ 2 ] }"),
        ("warn", "w"),
        ("error", "Error: e"),
        ("debug", "x=5"),
    ]


def test_logs_are_capped_per_call() -> None:
    from isolates import Limits

    result = run_js(
        "module.exports = function (cb) { for (let i = 0; i < 1000; i++) console.log('line ' + i); cb(null, 1); };",
        limits=Limits(log_lines=10),
    )
    assert len(result.logs) == 10
    assert result.logs_dropped == 990


def test_fetch_without_an_allow_list_rejects_with_type_error() -> None:
    value = value_of("fetch('http://127.0.0.1:1/').then(() => 'resolved', (e) => [e.name, e.message])")
    assert value[0] == "TypeError"
    assert value[1].startswith("fetch failed: egress_denied: ")
