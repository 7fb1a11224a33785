"""Blob, File, FormData, Body.formData() and structuredClone."""

from __future__ import annotations

from tests.isolates.conftest import run_js, value_of


def test_blob_parts_type_slice_and_reads() -> None:
    assert value_of(
        "(async () => { const b = new Blob(['ab', new Uint8Array([99]), new Blob(['d'])], { type: 'Text/Plain' });"
        " return [b.size, b.type, await b.text(), await b.slice(1, -1).text(), (await b.arrayBuffer()).byteLength,"
        " Array.from(await b.bytes())]; })()"
    ) == [4, "text/plain", "abcd", "bc", 4, [97, 98, 99, 100]]


def test_blob_stream_yields_its_bytes() -> None:
    assert value_of("(async () => { const r = new Blob(['hi']).stream().getReader(); return Array.from((await r.read()).value); })()") == [104, 105]


def test_file_has_a_name_and_last_modified() -> None:
    assert value_of("(() => { const f = new File(['x'], 'a.txt', { lastModified: 42 }); return [f.name, f.lastModified, f instanceof Blob]; })()") == [
        "a.txt",
        42,
        True,
    ]


def test_form_data_entries_and_files() -> None:
    assert value_of(
        "(() => { const f = new FormData(); f.append('a', '1'); f.append('a', '2'); f.set('b', new Blob(['x']), 'b.bin');"
        " return [f.getAll('a'), f.get('b').name, f.get('b') instanceof File, [...f.keys()]]; })()"
    ) == [["1", "2"], "b.bin", True, ["a", "a", "b"]]


def test_multipart_form_data_round_trips_through_a_body() -> None:
    assert value_of(
        "(async () => { const f = new FormData(); f.append('name', 'ada'); f.append('file', new File(['bytes'], 'f.txt', { type: 'text/plain' }));"
        " const request = new Request('http://example.com/', { method: 'POST', body: f });"
        " const back = await request.formData(); const file = back.get('file');"
        " return [request.headers.get('content-type').split(';')[0], back.get('name'), file.name, file.type, await file.text()]; })()"
    ) == ["multipart/form-data", "ada", "f.txt", "text/plain", "bytes"]


def test_urlencoded_body_as_form_data() -> None:
    assert value_of(
        "(async () => [...(await new Response('a=1&b=x+y', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData())])()"
    ) == [["a", "1"], ["b", "x y"]]


def test_an_incoming_multipart_request_is_read_with_form_data() -> None:
    body = b'--XyZ\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n--XyZ--\r\n'
    result = run_js(
        "export default { async fetch(request) { const form = await request.formData(); return new Response(form.get('field')); } };",
        method="POST",
        headers=[("content-type", "multipart/form-data; boundary=XyZ")],
        body=body,
    )
    assert result.body == b"value"


def test_structured_clone_of_every_serializable_type() -> None:
    assert value_of(
        "(async () => { const o = { m: new Map([[1, new Set(['s'])]]), d: new Date(7), r: /x/g, big: 3n, u: new Uint16Array([1, 2]),"
        " e: new RangeError('bad'), b: new File(['q'], 'n', { type: 'a/b' }), ex: new DOMException('m', 'AbortError') };"
        " const c = structuredClone(o); return [c.m.get(1).has('s'), c.d.getTime(), c.r.flags, String(c.big), Array.from(c.u),"
        " c.e instanceof RangeError && c.e.message, c.b.name, await c.b.text(), c.ex.name]; })()"
    ) == [True, 7, "g", "3", [1, 2], "bad", "n", "q", "AbortError"]


def test_structured_clone_refuses_what_it_cannot_serialize() -> None:
    assert value_of(
        "(() => [() => {}, Symbol('s'), new WeakMap(), Promise.resolve(), new Headers(), new AbortController()].map((v) => {"
        " try { structuredClone(v); return 'cloned'; } catch (e) { return e.name; } }))()"
    ) == ["DataCloneError"] * 6


def test_structured_clone_transfers_array_buffers() -> None:
    assert value_of(
        "(() => { const buffer = new Uint8Array([5]).buffer; const copy = structuredClone(buffer, { transfer: [buffer] });"
        " return [buffer.byteLength, new Uint8Array(copy)[0]]; })()"
    ) == [0, 5]
