"""Just enough of the Wasm binary format to split code from data.

The snapshot scheme ("code once, data per function") needs three things: the
active data segments of a module, the module without them, and a data-only
module that defines a memory holding an image and exports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAGIC = b"\0asm\x01\0\0\0"
SECTION_MEMORY = 5
SECTION_EXPORT = 7
SECTION_DATA = 11
SECTION_DATA_COUNT = 12
OP_I32_CONST = 0x41
OP_END = 0x0B
EXPORT_KIND_MEMORY = 2
_NON_ZERO = re.compile(rb"[^\0]")


class WasmFormatError(ValueError):
    """The bytes are not a module this file understands."""


@dataclass(frozen=True)
class DataSegment:
    offset: int
    data: bytes


def _read_uleb(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WasmFormatError("truncated LEB128")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _read_sleb32(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def sections(module: bytes) -> list[tuple[int, bytes]]:
    """(section id, payload) in order."""
    if module[:8] != MAGIC:
        raise WasmFormatError("not a Wasm core module (bad magic or version)")
    out = []
    pos = 8
    while pos < len(module):
        section_id = module[pos]
        size, pos = _read_uleb(module, pos + 1)
        out.append((section_id, module[pos:pos + size]))
        pos += size
    if pos != len(module):
        raise WasmFormatError("truncated section")
    return out


def data_segments(module: bytes) -> list[DataSegment]:
    """The active, constant-offset data segments of memory 0."""
    segments: list[DataSegment] = []
    for section_id, payload in sections(module):
        if section_id != SECTION_DATA:
            continue
        count, pos = _read_uleb(payload, 0)
        for _ in range(count):
            flags, pos = _read_uleb(payload, pos)
            if flags == 2:
                memory_index, pos = _read_uleb(payload, pos)
                if memory_index != 0:
                    raise WasmFormatError("data for a memory other than 0")
            elif flags != 0:
                raise WasmFormatError("passive data segments are not supported")
            if payload[pos] != OP_I32_CONST:
                raise WasmFormatError("data segment offset is not an i32.const")
            offset, pos = _read_sleb32(payload, pos + 1)
            if payload[pos] != OP_END:
                raise WasmFormatError("data segment offset expression too complex")
            length, pos = _read_uleb(payload, pos + 1)
            segments.append(DataSegment(offset, payload[pos:pos + length]))
            pos += length
    return segments


def without_data(module: bytes) -> bytes:
    """The module with its data (and data count) sections removed."""
    out = bytearray(MAGIC)
    for section_id, payload in sections(module):
        if section_id in (SECTION_DATA, SECTION_DATA_COUNT):
            continue
        out.append(section_id)
        out += _uleb(len(payload))
        out += payload
    return bytes(out)


def _section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + _uleb(len(payload)) + payload


def data_module(segments: list[DataSegment], min_pages: int, max_pages: int | None = None) -> bytes:
    """A module that defines memory 0 (exported as "memory") initialised with ``segments``."""
    limits = (b"\x01" + _uleb(min_pages) + _uleb(max_pages)) if max_pages is not None else (b"\x00" + _uleb(min_pages))
    memory = _section(SECTION_MEMORY, _uleb(1) + limits)
    name = b"memory"
    export = _section(SECTION_EXPORT, _uleb(1) + _uleb(len(name)) + name + bytes([EXPORT_KIND_MEMORY]) + _uleb(0))
    body = bytearray(_uleb(len(segments)))
    for segment in segments:
        body += b"\x00" + bytes([OP_I32_CONST]) + _sleb(segment.offset) + bytes([OP_END])
        body += _uleb(len(segment.data)) + segment.data
    return MAGIC + memory + export + _section(SECTION_DATA, bytes(body))


def segments_of_image(image: bytes, max_gap: int = 1024) -> list[DataSegment]:
    """Split a memory image into segments over its non-zero runs (zero gaps under ``max_gap`` kept)."""
    segments: list[DataSegment] = []
    zero_run = bytes(max_gap)
    length = len(image)
    pos = 0
    while pos < length:
        found = _NON_ZERO.search(image, pos)
        if found is None:
            break
        pos = found.start()
        end = image.find(zero_run, pos)
        if end < 0:
            end = length
        chunk = image[pos:end].rstrip(b"\0")
        segments.append(DataSegment(pos, chunk))
        pos = end
    return segments
