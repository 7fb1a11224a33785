"""What a call returned: ``InvokeResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from host_api.log import LogRecord


@dataclass
class InvokeResult:
    """A JSON value (``kind == "json"``) or an HTTP response (``"response"``), with what the call used."""

    kind: str  # "json" | "response"
    value: Any = None
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    fuel_used: int = 0
    phases_us: dict[str, float] = field(default_factory=dict)  # store, instantiate, init, call, close
    logs: list[LogRecord] = field(default_factory=list)
    logs_dropped: int = 0
    # a core module's linear memory at the end of the call, in bytes: its peak, since a Wasm memory never
    # shrinks; None for a component (its memories are not reachable from here)
    memory_bytes: int | None = None
