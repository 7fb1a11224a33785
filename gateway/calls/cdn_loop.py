"""No call chain can loop through the gateway: a hop count in the ``CDN-Loop`` header (RFC 8586).

A guest's outbound ``fetch`` always carries the incoming request's CDN-Loop
value plus one ``wasmtask`` entry (host_api.fetch sets it; a guest cannot set
or remove it). A request that has already passed through ``MAX_CALL_DEPTH``
wasmtask guests, on this host or any other, is refused with ``loop_detected``
(508) before any guest runs. So a function that allow-lists the gateway and
calls itself (or A calling B calling A) ends after a few hops, whatever the
limits of each call.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.errors import LoopDetected
from host_api.fetch import LOOP_HEADER

CDN_ID = "wasmtask"
MAX_CALL_DEPTH = 5  # guests a request may have passed through: A -> B -> C -> D -> E -> F is refused


def incoming_loop(headers: Mapping[str, str]) -> str:
    """Every CDN-Loop value of the request, joined (repeated headers are one list)."""
    if hasattr(headers, "getlist"):
        return ", ".join(headers.getlist(LOOP_HEADER))
    return headers.get(LOOP_HEADER, "")


def depth(loop: str) -> int:
    """How many wasmtask guests the request has passed through."""
    return sum(1 for entry in loop.split(",") if entry.split(";")[0].strip().lower() == CDN_ID)


def check(headers: Mapping[str, str]) -> str:
    """The CDN-Loop value the call's own fetches send; ``LoopDetected`` past the depth."""
    loop = incoming_loop(headers)
    hops = depth(loop)
    if hops >= MAX_CALL_DEPTH:
        raise LoopDetected(
            f"the request has passed through {hops} wasmtask functions already (CDN-Loop); "
            f"at most {MAX_CALL_DEPTH} may call each other in a chain"
        )
    return f"{loop}, {CDN_ID}" if loop.strip() else CDN_ID
