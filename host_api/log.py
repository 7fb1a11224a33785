"""The ``log`` host function's side: structured records, capped per call."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from host_api.abi import LOG_LEVELS


@dataclass(frozen=True)
class LogRecord:
    """One log line, bunyan-like: what a tenant sees on its log stream."""

    time: float  # seconds since the epoch
    level: str  # debug | info | warn | error
    msg: str
    request_id: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # tenant, function, version, event, ...

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "level": self.level, "msg": self.msg, "request_id": self.request_id, **self.fields}


LogSink = Callable[[LogRecord], None]


class CallLog:
    """The log lines of one call: kept up to a byte and a line cap, then counted as dropped.

    Every kept record is also handed to ``sink`` (the live per-tenant stream) as it is written.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_lines: int,
        request_id: str = "",
        fields: dict[str, Any] | None = None,
        sink: LogSink | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.request_id = request_id
        self.fields = fields or {}
        self.sink = sink
        self.records: list[LogRecord] = []
        self.bytes_used = 0
        self.dropped = 0

    def write(self, level: int | str, message: str, **extra: Any) -> None:
        """Keep one guest line (truncated to what the byte cap leaves), or count it as dropped."""
        name = LOG_LEVELS.get(level, "info") if isinstance(level, int) else level
        room = self.max_bytes - self.bytes_used
        if len(self.records) >= self.max_lines or room <= 0:
            self.dropped += 1
            return
        encoded_length = len(message.encode("utf-8", "replace"))
        if encoded_length > room:
            message = message.encode("utf-8", "replace")[:room].decode("utf-8", "ignore") + " [truncated]"
            encoded_length = room
        self.bytes_used += encoded_length
        self._keep(LogRecord(time.time(), name, message, self.request_id, {**self.fields, **extra}))

    def event(self, level: str, message: str, **extra: Any) -> None:
        """A platform record (invocation start/end): not counted against the guest's caps."""
        self._keep(LogRecord(time.time(), level, message, self.request_id, {**self.fields, **extra}), count=False)

    def keep(self, record: LogRecord) -> None:
        """Take a record another CallLog already admitted under the same caps (a buffered attempt)."""
        self.bytes_used += len(record.msg.encode("utf-8", "replace"))
        self._keep(record)

    def _keep(self, record: LogRecord, count: bool = True) -> None:
        if count:
            self.records.append(record)
        if self.sink is not None:
            self.sink(record)
