"""Live per-tenant logs, one concept per module.

bus.py       what a live log is (``LogBus``, ``Subscription``): the hub here, or Redis (gateway/coordination)
hub.py       the in-process hub: per-tenant topics, replay, bounded subscriptions, the ``CallLog`` sink
sse.py       ``GET /api/logs/{tenant}`` as server-sent events of one subscription
follower.py  one line per record, as ``wasmtask logs`` prints it (following: gateway/cli/tail.py)

The route (authenticate, authorize the ``logs`` scope, then sse.py) is gateway/routes/logs.py.
"""

from gateway.logs.bus import LogBus, LogEvent, Subscription
from gateway.logs.follower import format_record
from gateway.logs.hub import LogHub, LogStreamLimits
from gateway.logs.sse import EventStreamResponse, encode_events, logs_endpoint

__all__ = [
    "EventStreamResponse",
    "LogBus",
    "LogEvent",
    "LogHub",
    "LogStreamLimits",
    "Subscription",
    "encode_events",
    "format_record",
    "logs_endpoint",
]
