"""Which failed runs of a job are tried again, and when.

A run that failed for a reason outside the function (no slot free, the registry or
the runtime away, the worker gone) is tried again after a backoff, up to the job's
``max_attempts``, then the job is ``dead`` (the dead-letter state: kept, listed with
``status=dead``, never run again). A run that failed because of the function itself
would fail the same way again: the job is ``failed`` at once, never retried.
"""

from __future__ import annotations

import random

# Tried again: the failure says nothing about the function.
RETRYABLE = frozenset({
    "overloaded",            # no isolate slot on this server in time
    "concurrency_limit",     # the tenant's calls in flight were at its cap
    "rate_limited",
    "registry_unavailable",  # the registry did not answer (the function could not be looked up)
    "runtime_unavailable",   # jsrt.wasm not loaded on this worker
    "language_unavailable",  # this worker has no toolchain for the language
    "internal_error",        # a bug of ours, perhaps of this worker only
    "worker_lost",           # the worker running it stopped renewing its lease (killed, frozen)
})

# Never tried again: the function did this, and would do it again.
NOT_RETRYABLE = frozenset({
    "cpu_limit", "memory_limit", "timeout", "stack_overflow", "guest_error", "output_limit", "invalid_response",
    "egress_denied", "invalid_code", "loop_detected", "not_found", "invalid_request",
})

BASE_SECONDS = 1.0
MAX_SECONDS = 60.0


def retryable(code: str) -> bool:
    """Whether a run that ended with ``code`` may be tried again (unknown codes are not: never loop on a surprise)."""
    return code in RETRYABLE


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """How long to wait before the attempt after ``attempt`` (1, 2, ...): 1 s, 2 s, 4 s, ... up to 60 s,
    with "full jitter" over the upper half so retries of many jobs spread out."""
    ceiling = min(MAX_SECONDS, BASE_SECONDS * 2 ** max(0, attempt - 1))
    return float(ceiling / 2 + (rng or random).random() * ceiling / 2)
