"""The WHATWG Encoding standard's labels and index tables, as C, for the JS runtime's decoders.

The tables come from lexbor (Apache-2.0), a C implementation of the standard, whose
generated sources ship in the PyPI sdist of ``selectolax`` (pinned by version and
hash, downloaded once into the build cache like the QuickJS sources). Only what the
decoders need is kept: the labels, the 28 single-byte indexes, the gb18030 ranges,
and the big5, euc-kr, gb18030, jis0208 and jis0212 indexes.

Where the tables live (measured, jsrt.wasm with QuickJS-NG 0.17): the five
multi-byte indexes are 172 KiB as uint16. As static data they would sit in the
runtime's memory image, so in every deployed function's snapshot (the base snapshot
is ~660 KiB). Instead each is emitted as a *fill function*: straight-line stores of
64-bit constants, i.e. code in the runtime module, compiled once per engine and shared
by every function (~0.3 MiB of wasm). A call that decodes big5, euc-kr, gbk/gb18030,
euc-jp, iso-2022-jp or shift_jis runs the fill once into memory it allocates (measured:
+35-60 µs and +30-75 k fuel on that call, mostly first touches of the 15-48 KiB filled);
no other call pays anything. The single-byte indexes (7 KiB) and the labels stay static data.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
from pathlib import Path

from toolchains.sdist import fetch_pinned_sdist, sha256_of

LEXBOR_SDIST_PACKAGE = "selectolax"
LEXBOR_SDIST_VERSION = "1.0.2"  # bundles lexbor 3.1.0
LEXBOR_SDIST = f"selectolax-{LEXBOR_SDIST_VERSION}.tar.gz"
LEXBOR_SDIST_SHA256 = "f0508ad927aa426425d4aa7a2bb2f8b21c01412534465bd227e241d4d0a6a418"
ENCODING_DIR = f"selectolax-{LEXBOR_SDIST_VERSION}/lexbor/source/lexbor/encoding/"

# The standard's encodings, in the order of its table; the id is the position.
ENCODINGS = [
    "utf-8",
    "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7",
    "iso-8859-8", "iso-8859-8-i", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15",
    "iso-8859-16", "koi8-r", "koi8-u", "macintosh", "windows-874", "windows-1250", "windows-1251",
    "windows-1252", "windows-1253", "windows-1254", "windows-1255", "windows-1256", "windows-1257",
    "windows-1258", "x-mac-cyrillic",
    "gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp", "shift_jis", "euc-kr",
    "replacement", "utf-16be", "utf-16le", "x-user-defined",
]
SINGLE_BYTE = ENCODINGS[1:29]  # ids 1..28, consecutive
# iso-8859-8-i decodes with iso-8859-8's index
SINGLE_BYTE_INDEX = {name: ("iso-8859-8" if name == "iso-8859-8-i" else name) for name in SINGLE_BYTE}
MULTI_BYTE_INDEXES = ["big5", "euc_kr", "gb18030", "jis0208", "jis0212"]

# Labels the standard added after lexbor's table was generated.
EXTRA_LABELS = {
    "unicode11utf8": "utf-8", "unicode20utf8": "utf-8", "x-unicode20utf8": "utf-8",
    "unicodefffe": "utf-16be",
    "csunicode": "utf-16le", "iso-10646-ucs-2": "utf-16le", "ucs-2": "utf-16le", "unicode": "utf-16le",
    "unicodefeff": "utf-16le",
}


class TablesError(RuntimeError):
    """The lexbor sources are missing or not what the generator expects."""



def fetch_lexbor_sdist(cache: Path) -> Path:
    """The selectolax sdist from PyPI (it bundles lexbor's sources), downloaded once into ``cache``."""
    return fetch_pinned_sdist(LEXBOR_SDIST_PACKAGE, LEXBOR_SDIST_VERSION, LEXBOR_SDIST, LEXBOR_SDIST_SHA256, cache)


def _read_sources(sdist: Path) -> dict[str, str]:
    wanted = {"res.c", "single_res.c", "multi_res.c", "range_res.c"}
    out: dict[str, str] = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = member.name[len(ENCODING_DIR):] if member.name.startswith(ENCODING_DIR) else ""
            if name in wanted:
                handle = archive.extractfile(member)
                if handle is not None:
                    out[name] = handle.read().decode("utf-8")
    if set(out) != wanted:
        raise TablesError(f"{sdist.name} lacks {sorted(wanted - set(out))} under {ENCODING_DIR}")
    return out


def _labels(res_c: str) -> dict[str, int]:
    names = re.findall(r'\(lxb_char_t \*\) "([^"]+)"\}', res_c)
    labels: dict[str, int] = {}
    for label, index in re.findall(r'\{"([^"]+)", \(void \*\) &lxb_encoding_res_map\[(\d+)\]', res_c):
        name = names[int(index)].lower()
        if name not in ENCODINGS:
            raise TablesError(f"label {label!r} names {name!r}, not an encoding of the standard")
        labels[label] = ENCODINGS.index(name)
    for label, name in EXTRA_LABELS.items():
        labels.setdefault(label, ENCODINGS.index(name))
    return labels


def _single_byte(single_res_c: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    pattern = r"lxb_encoding_single_index_(\w+)\[128\] =\s*\{(.*?)\n\};"
    for name, body in re.findall(pattern, single_res_c, re.S):
        points = re.findall(r"^\s*\{\{.*?\}, \d+, (0x[0-9A-Fa-f]+|LXB_ENCODING_DECODE_ERROR)\}", body, re.M)
        if len(points) != 128:
            raise TablesError(f"single-byte index {name}: {len(points)} entries")
        out[name.replace("_", "-")] = [0 if p == "LXB_ENCODING_DECODE_ERROR" else int(p, 16) for p in points]
    return out


def _multi_byte(multi_res_c: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    pattern = r"lxb_codepoint_t lxb_encoding_multi_(\w+)_map\[(\d+)\] =\s*\{(.*?)\};"
    for name, size, body in re.findall(pattern, multi_res_c, re.S):
        values = [v.strip() for v in re.sub(r"/\*.*?\*/", "", body).split(",") if v.strip()]
        if len(values) != int(size):
            raise TablesError(f"index {name}: {len(values)} entries, declared {size}")
        out[name] = [0 if v == "LXB_ENCODING_ERROR_CODEPOINT" else int(v, 16) for v in values]
    return out


def _ranges(range_res_c: str) -> list[tuple[int, int]]:
    body = re.search(r"lxb_encoding_range_index_gb18030\[(\d+)\] =\s*\{(.*?)\};", range_res_c, re.S)
    if body is None:
        raise TablesError("no gb18030 ranges")
    pairs = [(int(a), int(b, 16)) for a, b in re.findall(r"\{(\d+), (0x[0-9A-Fa-f]+)\}", body.group(2))]
    if len(pairs) != int(body.group(1)):
        raise TablesError("gb18030 ranges: wrong count")
    return pairs


def _c_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", name.lower())


def _fill_function(name: str, words: list[int]) -> str:
    """``static void fill_<name>(uint64_t *w)``: the table as stores of 64-bit constants (zeros skipped)."""
    lines = [f"static void fill_{name}(uint64_t *w) {{"]
    for i, word in enumerate(words):
        if word:
            lines.append(f"w[{i}]=0x{word:x}ULL;")
    lines.append("}")
    return "\n".join(lines)


def _words(values: list[int]) -> list[int]:
    """uint16 values packed little-endian into 64-bit words."""
    padded = values + [0] * (-len(values) % 4)
    return [padded[i] | padded[i + 1] << 16 | padded[i + 2] << 32 | padded[i + 3] << 48
            for i in range(0, len(padded), 4)]


def generate(sdist: Path) -> str:
    """The C header (encoding_tables.h) for guest_sdk/js/encoding.c."""
    sources = _read_sources(sdist)
    labels = _labels(sources["res.c"])
    single = _single_byte(sources["single_res.c"])
    multi = _multi_byte(sources["multi_res.c"])
    ranges = _ranges(sources["range_res.c"])
    out = [
        "/* generated by toolchains/encoding_tables.py from lexbor's tables (PyPI selectolax "
        f"{LEXBOR_SDIST_VERSION} sdist, Apache-2.0): do not edit */",
        "#include <stdint.h>",
        f"#define ENCODING_COUNT {len(ENCODINGS)}",
    ]
    out += [f"#define ENC_{_c_name(name).upper()} {i}" for i, name in enumerate(ENCODINGS)]
    out.append("#define ENC_FIRST_SINGLE_BYTE 1")
    out.append(f"#define ENC_LAST_SINGLE_BYTE {len(SINGLE_BYTE)}")
    out.append("static const char *const encoding_names[ENCODING_COUNT] = {"
               + ", ".join(f'"{name}"' for name in ENCODINGS) + "};")
    out.append(f"#define ENCODING_LABEL_COUNT {len(labels)}")
    out.append("static const struct encoding_label { const char *label; uint8_t id; } encoding_labels[] = {")
    out += [f'    {{"{label}", {labels[label]}}},' for label in sorted(labels)]
    out.append("};")
    out.append("static const uint16_t single_byte_indexes[][128] = {")
    for name in SINGLE_BYTE:
        out.append("    {" + ",".join(str(v) for v in single[SINGLE_BYTE_INDEX[name]]) + "},")
    out.append("};")
    out.append(f"static const uint32_t gb18030_ranges[{len(ranges)}][2] = {{"
               + ",".join(f"{{{p},{c}}}" for p, c in ranges) + "};")
    katakana = multi["iso_2022_jp_katakana"]
    out.append(f"static const uint16_t iso_2022_jp_katakana[{len(katakana)}] = {{"
               + ",".join(str(v) for v in katakana) + "};")
    for name in MULTI_BYTE_INDEXES:
        values = multi[name]
        out.append(f"#define INDEX_{name.upper()}_SIZE {len(values)}")
        out.append(_fill_function(f"index_{name}", _words([v & 0xFFFF for v in values])))
    # big5 also maps to plane 2 (U+20000..U+2FFFF): a bitmap marks those pointers,
    # whose code point is 0x20000 + the stored 16 bits
    big5 = multi["big5"]
    if any(v > 0x2FFFF for v in big5):
        raise TablesError("big5 maps beyond plane 2")
    bits = [0] * (-(-len(big5) // 64))
    for pointer, value in enumerate(big5):
        if value > 0xFFFF:
            bits[pointer // 64] |= 1 << (pointer % 64)
    out.append(f"#define INDEX_BIG5_PLANE2_WORDS {len(bits)}")
    out.append(_fill_function("index_big5_plane2", bits))
    return "\n".join(out) + "\n"


def write_header(cache: Path, header: Path) -> None:
    """Write encoding_tables.h, regenerated only when the pinned sdist or this generator changed."""
    sdist = fetch_lexbor_sdist(cache)
    key = hashlib.sha256(sha256_of(sdist).encode() + Path(__file__).read_bytes()).hexdigest()[:16]
    cached = cache / f"encoding_tables-{key}.h"
    if not cached.exists():
        temporary = cached.with_suffix(".tmp")
        temporary.write_text(generate(sdist))
        temporary.replace(cached)
    header.write_bytes(cached.read_bytes())


def tables_key() -> str:
    """Part of the runtime's build key: the pinned sdist and this generator."""
    return hashlib.sha256(LEXBOR_SDIST_SHA256.encode() + Path(__file__).read_bytes()).hexdigest()[:16]
