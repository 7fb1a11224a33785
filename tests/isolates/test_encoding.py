"""TextEncoder and TextDecoder to the WHATWG Encoding standard, inside the sandbox."""

from __future__ import annotations

from tests.isolates.conftest import value_of


def decode(label: str, data: list[int], options: str = "{}") -> object:
    return value_of(f"new TextDecoder({label!r}, {options}).decode(new Uint8Array({data}))")


def test_labels_are_trimmed_lowercased_and_aliased() -> None:
    assert value_of(
        "['  UTF8\\n', 'unicode11utf8', 'latin1', 'sjis', 'x-gbk', 'ks_c_5601-1987', 'utf-16']"
        ".map((label) => new TextDecoder(label).encoding)"
    ) == ["utf-8", "utf-8", "windows-1252", "shift_jis", "gbk", "euc-kr", "utf-16le"]


def test_unknown_and_replacement_labels_are_range_errors() -> None:
    assert value_of(
        "['utf-7', 'iso-2022-kr', 'utf-8\\0', '\\u212Aoi8-r'].map((label) => {"
        " try { new TextDecoder(label); return 'accepted'; } catch (e) { return e.name; } })"
    ) == ["RangeError", "RangeError", "RangeError", "RangeError"]


def test_invalid_utf8_becomes_replacement_characters_per_maximal_subpart() -> None:
    assert decode("utf-8", [0xF0, 0x90, 0x80, 0x41, 0xC0, 0x80, 0xED, 0xA0, 0x80]) == "\ufffdA\ufffd\ufffd\ufffd\ufffd\ufffd"


def test_fatal_mode_throws_a_type_error() -> None:
    assert value_of(
        "(() => { try { new TextDecoder('utf-16le', {fatal: true}).decode(new Uint8Array([0x00, 0xD8])); return 'no'; }"
        " catch (e) { return e.name; } })()"
    ) == "TypeError"


def test_byte_order_mark_is_stripped_unless_ignore_bom() -> None:
    assert value_of(
        "[new TextDecoder().decode(new Uint8Array([0xEF, 0xBB, 0xBF, 0x41])),"
        " new TextDecoder('utf-8', {ignoreBOM: true}).decode(new Uint8Array([0xEF, 0xBB, 0xBF, 0x41])),"
        " new TextDecoder('utf-16be').decode(new Uint8Array([0xFE, 0xFF, 0x00, 0x42]))]"
    ) == ["A", "\ufeffA", "B"]


def test_streaming_keeps_a_sequence_split_across_chunks() -> None:
    assert value_of(
        "(() => { const d = new TextDecoder(); const bytes = [0xF0, 0x9F, 0x92, 0x99, 0x21];"
        " return bytes.map((b) => d.decode(new Uint8Array([b]), {stream: true})).concat(d.decode()); })()"
    ) == ["", "", "", "\U0001F499", "!", ""]


def test_array_buffer_views_and_shared_memory_are_accepted() -> None:
    assert value_of(
        "(() => { const sab = new SharedArrayBuffer(3); new Uint8Array(sab).set([0x68, 0x69, 0x21]);"
        " const d = new TextDecoder();"
        " return [d.decode(sab), d.decode(new DataView(sab, 1)), d.decode(new Uint16Array([0x6968])), d.decode(new Uint8Array(sab).buffer)]; })()"
    ) == ["hi!", "i!", "hi", "hi!"]


def test_single_byte_encodings() -> None:
    assert decode("windows-1252", [0x80, 0x81, 0xE9]) == "\u20ac\u0081\u00e9"
    assert decode("koi8-r", [0xC1, 0xC2]) == "\u0430\u0431"
    assert decode("x-user-defined", [0x41, 0x80, 0xFF]) == "A\uf780\uf7ff"


def test_iso_8859_unmapped_byte_is_an_error() -> None:
    assert decode("iso-8859-3", [0xA5]) == "\ufffd"


def test_cjk_multi_byte_encodings() -> None:
    assert decode("gbk", [0xC4, 0xE3, 0xBA, 0xC3]) == "你好"
    assert decode("gb18030", [0x81, 0x30, 0x81, 0x30, 0x90, 0x30, 0x81, 0x30]) == "\u0080\U00010000"
    assert decode("big5", [0xA4, 0xA4, 0x88, 0x62, 0x87, 0x45]) == "中\u00ca\u0304\U00027267"
    assert decode("shift_jis", [0x82, 0xA0, 0xB1]) == "あｱ"
    assert decode("euc-jp", [0xA4, 0xA2, 0x8E, 0xB1, 0x8F, 0xB0, 0xA1]) == "あｱ丂"
    assert decode("euc-kr", [0xB0, 0xA1]) == "가"
    assert decode("iso-2022-jp", list(b"a\x1b$B$\"\x1b(Bb")) == "aあb"


def test_an_ascii_byte_after_a_bad_lead_is_kept() -> None:
    assert decode("shift_jis", [0x81, 0x20]) == "\ufffd "


def test_encode_replaces_lone_surrogates() -> None:
    assert value_of("Array.from(new TextEncoder().encode('a\\uD800b\\uDC00\\uD83D\\uDE00'))") == [
        0x61, 0xEF, 0xBF, 0xBD, 0x62, 0xEF, 0xBF, 0xBD, 0xF0, 0x9F, 0x98, 0x80,
    ]


def test_encode_into_stops_before_a_code_point_that_does_not_fit() -> None:
    assert value_of(
        "(() => { const dest = new Uint8Array(5); const r = new TextEncoder().encodeInto('a€b', dest);"
        " const small = new TextEncoder().encodeInto('a€', new Uint8Array(3)); return [r.read, r.written, small.read, small.written]; })()"
    ) == [3, 5, 1, 1]


def test_text_decoder_stream_decodes_chunks() -> None:
    assert value_of(
        "(async () => { const s = new TextDecoderStream('utf-16le'); const w = s.writable.getWriter();"
        " w.write(new Uint8Array([0x3D, 0xD8])); w.write(new Uint8Array([0x99, 0xDC, 0x41])); w.close();"
        " let out = []; for await (const chunk of s.readable) out.push(chunk); return out; })()"
    ) == ["\U0001F499", "\ufffd"]
