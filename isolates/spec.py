"""What a call is run with, apart from its program and its request: one ``CallSpec``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from host_api.fetch import FetchLimits
from host_api.log import LogSink
from host_api.storage import FunctionStorage
from isolates.limits import Limits


@dataclass(frozen=True)
class CallSpec:
    """Everything isolates needs to set up one call: it builds the call's log, its
    fetch session and its egress policy from this (the caller builds none of them).

    limits
        fuel, memory, wall clock, output and log caps (``isolates.Limits``).
    allowed_hosts
        the egress allow-list (``host_api.egress`` syntax); empty: every fetch is refused.
    secrets
        values masked as ``[secret]`` in log lines and in error messages.
    log_sink
        called with each log line as it is kept (the live stream); None: lines are
        only returned, in ``InvokeResult.logs`` or ``IsolateError.logs``.
    log_fields
        added to every log record (tenant, function, version, ...).
    request_id
        the call's id, on every log record.
    cdn_loop
        the ``CDN-Loop`` value every fetch sends (gateway/calls/cdn_loop.py).
    fetch_limits
        caps on the call's fetches (count, sizes, time).
    storage
        the function's document and KV namespace (``host_api.storage``), bound to its
        tenant and name by the caller; None (ad-hoc runs, a deploy's init): none.
    """

    limits: Limits = field(default_factory=Limits)
    allowed_hosts: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)
    log_sink: LogSink | None = None
    log_fields: Mapping[str, Any] = field(default_factory=dict)
    request_id: str = ""
    cdn_loop: str = ""
    fetch_limits: FetchLimits = field(default_factory=FetchLimits)
    storage: FunctionStorage | None = None
