"""ReadableStream, WritableStream, TransformStream, and streaming bodies."""

from __future__ import annotations

import pytest

from isolates import CpuLimitExceeded, Limits, OutputLimitExceeded
from tests.isolates.conftest import run_js, value_of


def test_a_readable_stream_pulls_and_reads_in_order() -> None:
    assert value_of(
        "(async () => { let n = 0; const rs = new ReadableStream({ pull(c) { c.enqueue(n++); if (n === 3) c.close(); } });"
        " const out = []; for await (const chunk of rs) out.push(chunk); return [out, rs.locked]; })()"
    ) == [[0, 1, 2], False]


def test_tee_gives_both_branches_every_chunk() -> None:
    assert value_of(
        "(async () => { const [a, b] = ReadableStream.from(['x', 'y']).tee(); const read = async (s) => { const out = [];"
        " for await (const c of s) out.push(c); return out; }; return [await read(a), await read(b)]; })()"
    ) == [["x", "y"], ["x", "y"]]


def test_pipe_through_a_transform_stream_into_a_writable_stream() -> None:
    assert value_of(
        "(async () => { const seen = [];"
        " await ReadableStream.from(['a', 'b']).pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c.toUpperCase()); },"
        " flush(ctl) { ctl.enqueue('!'); } })).pipeTo(new WritableStream({ write(c) { seen.push(c); } }));"
        " return seen; })()"
    ) == ["A", "B", "!"]


def test_writable_stream_backpressure_and_errors() -> None:
    assert value_of(
        "(async () => { const ws = new WritableStream({ write(c) { if (c === 'bad') throw new TypeError('no'); } },"
        " new CountQueuingStrategy({ highWaterMark: 1 })); const w = ws.getWriter(); const before = w.desiredSize;"
        " await w.write('ok'); let error; try { await w.write('bad'); } catch (e) { error = e.name; }"
        " return [before, error, await w.closed.catch((e) => e.message)]; })()"
    ) == [1, "TypeError", "no"]


def test_byob_reader_fills_the_callers_buffer() -> None:
    assert value_of(
        "(async () => { const rs = new ReadableStream({ type: 'bytes', pull(c) { const v = c.byobRequest.view;"
        " v[0] = 7; v[1] = 8; c.byobRequest.respond(2); c.close(); } });"
        " const r = rs.getReader({ mode: 'byob' }); const { value } = await r.read(new Uint8Array(4));"
        " return [Array.from(value), value.buffer.byteLength]; })()"
    ) == [[7, 8], 4]


def test_pipe_to_honours_an_abort_signal() -> None:
    assert value_of(
        "(async () => { const c = new AbortController(); c.abort(new Error('stop'));"
        " return ReadableStream.from([1]).pipeTo(new WritableStream(), { signal: c.signal }).catch((e) => e.message); })()"
    ) == "stop"


def test_a_handler_may_return_a_streamed_response() -> None:
    result = run_js(
        "export default { fetch() { const enc = new TextEncoder();"
        " return new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode('stre')); c.enqueue(enc.encode('amed')); c.close(); } }),"
        " { headers: { 'content-type': 'text/plain' } }); } };"
    )
    assert (result.status, result.body) == (200, b"streamed")


def test_a_streamed_response_counts_against_the_output_cap() -> None:
    with pytest.raises(OutputLimitExceeded):
        run_js(
            "export default { fetch() { let n = 0; return new Response(new ReadableStream({ pull(c) {"
            " c.enqueue(new Uint8Array(8 * 1024).fill(97)); if (++n === 20) c.close(); } })); } };",
            limits=Limits(output_bytes=64 * 1024),
        )


def test_a_stream_that_never_closes_ends_like_any_endless_loop() -> None:
    with pytest.raises(CpuLimitExceeded):
        run_js(
            "export default { fetch() { return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1)); } })); } };",
            limits=Limits(fuel=30_000_000),
        )


def test_a_request_body_is_a_readable_stream() -> None:
    result = run_js(
        "export default { async fetch(request) { const out = [];"
        " for await (const chunk of request.body) out.push(...chunk); return new Response(String(out.length)); } };",
        method="POST",
        body=b"hello",
    )
    assert result.body == b"5"


def test_a_non_byte_chunk_in_a_response_body_is_a_type_error() -> None:
    assert value_of(
        "new Response(new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } })).text().catch((e) => e.name)"
    ) == "TypeError"


def test_streams_load_when_a_call_first_needs_them() -> None:
    """The source does not name them, so they are compiled in the call (35-webidl.js)."""
    assert value_of("(() => { const S = globalThis['Readable' + 'Stream']; return new S().locked; })()") is False
