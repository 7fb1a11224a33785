"""Snapshots: a call's memory after init, as a data-only module mapped copy-on-write.

"Code once, data per function": the runtime module is compiled once per
engine; a deployed function is only the image of its initialised memory. The
runtime keeps no other mutable state outside memory (its one mutable global,
the shadow stack pointer, is back at its initial value whenever an export
returns), so the memory alone is the snapshot.
"""

from __future__ import annotations

from isolates.limits import WASM_PAGE_BYTES
from isolates.wasm_binary import data_module, segments_of_image


def image_module_bytes(image: bytes) -> bytes:
    """The data module whose memory starts as ``image``."""
    pages = -(-len(image) // WASM_PAGE_BYTES)
    return data_module(segments_of_image(image), min_pages=pages)
