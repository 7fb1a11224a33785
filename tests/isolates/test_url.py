"""URL and URLSearchParams to the WHATWG URL standard (ada inside the runtime), inside the sandbox."""

from __future__ import annotations

from tests.isolates.conftest import value_of


def test_components_of_a_parsed_url() -> None:
    assert value_of(
        "(() => { const u = new URL('HTTPS://us%65r:p@ss@EXAMPLE.com:8443/a/../b/%7e?q=1#f');"
        " return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin]; })()"
    ) == [
        "https://us%65r:p%40ss@example.com:8443/b/%7e?q=1#f",
        "https:", "us%65r", "p%40ss", "example.com:8443", "example.com", "8443", "/b/%7e", "?q=1", "#f",
        "https://example.com:8443",
    ]


def test_special_scheme_without_slashes_and_backslashes() -> None:
    assert value_of("[new URL('http:/example.com/').href, new URL('http:\\\\\\\\h\\\\p').href]") == [
        "http://example.com/",
        "http://h/p",
    ]


def test_hosts_ipv4_ipv6_and_idna() -> None:
    assert value_of(
        "['http://0x7f.1/', 'http://[0:0::1]:80/', 'http://Bücher.example/', 'http://www.foo\\u3002bar.com/']"
        ".map((s) => new URL(s).host)"
    ) == ["127.0.0.1", "[::1]", "xn--bcher-kva.example", "www.foo.bar.com"]


def test_invalid_urls_throw_and_can_parse_says_false() -> None:
    assert value_of(
        "['http://exa mple.com', 'http://[::1', 'https://a:99999', 'no-scheme'].map((s) =>"
        " [URL.canParse(s), URL.parse(s), (() => { try { new URL(s); return 'parsed'; } catch (e) { return e.name; } })()])"
    ) == [[False, None, "TypeError"]] * 4


def test_relative_resolution_and_non_special_schemes() -> None:
    assert value_of(
        "[new URL('../x?y#z', 'http://h/a/b/c').href, new URL('//o/p', 'wss://h/').href,"
        " new URL('sc://h/a b').href, new URL('mailto:A@B.com').pathname, URL.canParse('x', 'sc:opaque')]"
    ) == ["http://h/a/x?y#z", "wss://o/p", "sc://h/a%20b", "A@B.com", False]


def test_setters_follow_the_standard() -> None:
    assert value_of(
        "(() => { const u = new URL('http://h/p'); u.port = '80'; const a = u.href;"
        " u.protocol = 'https'; u.host = 'x.test:8080'; u.pathname = 'a/b c'; u.search = 'q=a b'; u.hash = 'h';"
        " u.protocol = 'foo'; const b = u.href; u.username = 'me'; u.port = 'bad'; return [a, b, u.href]; })()"
    ) == ["http://h/p", "https://x.test:8080/a/b%20c?q=a%20b#h", "https://me@x.test:8080/a/b%20c?q=a%20b#h"]


def test_href_setter_throws_on_an_invalid_url() -> None:
    assert value_of("(() => { const u = new URL('http://h/'); try { u.href = 'nope'; } catch (e) { return [e.name, u.href]; } })()") == [
        "TypeError",
        "http://h/",
    ]


def test_search_params_stay_in_sync_with_the_url() -> None:
    assert value_of(
        "(() => { const u = new URL('http://h/?b=2&a=1&a=3'); const p = u.searchParams;"
        " p.sort(); p.append('c', 'x y&z'); const one = u.search; u.search = '?k=v'; p.delete('k');"
        " return [one, p.size, u.href, p === u.searchParams]; })()"
    ) == ["?a=1&a=3&b=2&c=x+y%26z", 0, "http://h/", True]


def test_search_params_parse_and_serialize_form_encoding() -> None:
    assert value_of(
        "(() => { const p = new URLSearchParams('?a=b+c&%E2%82%AC=%zz&=&x'); return [Array.from(p), p.toString(),"
        " new URLSearchParams({k: 'v', '\\uD800': 'w'}).toString(), new URLSearchParams([['a', '1'], ['a', '2']]).getAll('a')]; })()"
    ) == [[["a", "b c"], ["€", "%zz"], ["", ""], ["x", ""]], "a=b+c&%E2%82%AC=%25zz&=&x=", "k=v&%EF%BF%BD=w", ["1", "2"]]


def test_url_to_json_and_string() -> None:
    assert value_of("JSON.stringify({u: new URL('http://h/a')}) + ' ' + String(new URL('http://h/b'))") == '{"u":"http://h/a"} http://h/b'
