"""Per-invocation limits, with their units and defaults in one place."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields, replace
from typing import Any

WASM_PAGE_BYTES = 65536


@dataclass(frozen=True)
class Limits:
    """What one invocation may use. Every field names its unit.

    fuel
        wasmtime fuel units (about one per simple Wasm instruction). What a JS
        hello-world uses with and without a snapshot: benches/README.md, "Why
        the hot path is shaped this way".
    memory_bytes
        the guest's linear memory cap, in bytes (rounded down to 64 KiB pages).
    wall_clock_ms
        deadline for the whole call, in milliseconds (epoch interruption;
        precision: one ticker interval, see ``isolates.engine``).
    output_bytes
        max bytes of the guest's response JSON.
    log_bytes
        max bytes of log messages kept per call; later lines are dropped and
        counted.
    log_lines
        max log records kept per call.
    """

    fuel: int = 200_000_000
    memory_bytes: int = 64 * 1024 * 1024
    wall_clock_ms: int = 2_000
    output_bytes: int = 1024 * 1024
    log_bytes: int = 64 * 1024
    log_lines: int = 256

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"limit {field.name} must be a positive integer, got {value!r}")

    def with_overrides(self, **overrides: Any) -> Limits:
        """A copy with the given non-None fields replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def capped_by(self, maximum: Limits) -> Limits:
        """Each field the smaller of this and ``maximum`` (cached: a call's limits are one of few pairs)."""
        return _capped(self, maximum)

    def exceeds(self, maximum: Limits) -> list[str]:
        """The names of the fields above ``maximum``."""
        return [f.name for f in fields(self) if getattr(self, f.name) > getattr(maximum, f.name)]

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Any, base: Limits | None = None) -> Limits:
        """The one parser of limits from JSON: ``base`` with the fields of ``data`` replaced.

        ``ValueError`` for anything but an object of known fields with positive integers."""
        if not isinstance(data, dict):
            raise ValueError("limits must be an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        return (base or cls()).with_overrides(**data)


@functools.lru_cache(maxsize=4096)
def _capped(limits: Limits, maximum: Limits) -> Limits:
    if all(getattr(limits, f.name) <= getattr(maximum, f.name) for f in fields(limits)):
        return limits
    return Limits(**{f.name: min(getattr(limits, f.name), getattr(maximum, f.name)) for f in fields(limits)})


UNBOUNDED = Limits(**{f.name: 2**62 for f in fields(Limits)})  # a base under which unnamed fields do not bind


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024, "m": 1000**2, "mb": 1000**2,
               "mib": 1024**2, "mi": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, None: 1}


def parse_size(text: str) -> int:
    """'64MiB' -> 67108864; '512k' -> 512000; '1048576' -> 1048576."""
    match = _SIZE.match(text)
    unit = (match.group(2) or "").lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ValueError(f"not a size: {text!r} (try 64MiB, 512KiB, 1000000)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def parse_duration_ms(text: str) -> int:
    """'2s' -> 2000; '150ms' -> 150; '1m' -> 60000; a bare number is ms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 2s, 150ms)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _DURATION_UNITS[unit])
