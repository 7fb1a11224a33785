"""The ``log`` host function's side: structured records, capped per call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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

# Secret values shorter than this are not masked (masking "a" would mangle every line).
MIN_MASKED_SECRET_CHARS = 4
MASK = "[secret]"


class SecretMask:
    """Replaces a call's secret values with ``[secret]`` in any text that leaves the call.

    Applied to a log line before it is kept, truncated or published, so every
    copy (the live stream, ``x-wasmtask-logs``, error messages) is masked alike.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.values = tuple(sorted({v for v in secrets if len(v) >= MIN_MASKED_SECRET_CHARS}, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self.values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text


NO_SECRETS = SecretMask()


class CallLog:
    """The log lines of one call: kept up to a byte and a line cap, then counted as dropped.

    Every kept record is also handed to ``sink`` (the live per-tenant stream) as it is written.
    ``mask`` hides the call's secret values in every line before it is kept or published.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_lines: int,
        request_id: str = "",
        fields: dict[str, Any] | None = None,
        sink: LogSink | None = None,
        mask: SecretMask = NO_SECRETS,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.request_id = request_id
        self.fields = fields or {}
        self.sink = sink
        self.mask = mask
        self.records: list[LogRecord] = []
        self.bytes_used = 0
        self.dropped = 0

    def write(self, level: int | str, message: str, **extra: Any) -> None:
        """Keep one guest line (truncated to what the byte cap leaves), or count it as dropped."""
        name = LOG_LEVELS.get(level, "info") if isinstance(level, int) else level
        if self.mask:  # before truncation, so a cut can never leave part of a secret
            message = self.mask(message)
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
        if self.mask:
            message = self.mask(message)
        self._keep(LogRecord(time.time(), level, message, self.request_id, {**self.fields, **extra}), count=False)

    def keep(self, record: LogRecord) -> None:
        """Take a record another CallLog already admitted under the same caps (a buffered attempt)."""
        if self.mask and self.mask(record.msg) != record.msg:
            record = LogRecord(record.time, record.level, self.mask(record.msg), record.request_id, record.fields)
        self.bytes_used += len(record.msg.encode("utf-8", "replace"))
        self._keep(record)

    def _keep(self, record: LogRecord, count: bool = True) -> None:
        if count:
            self.records.append(record)
        if self.sink is not None:
            self.sink(record)
