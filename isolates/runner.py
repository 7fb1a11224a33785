"""The one door for a call: ``run(program, request, spec) -> InvokeResult``.

Steps (DESIGN.md, "The request path"): build the call's state from the spec
(its log, its fetch session; capabilities/), create a fresh Store for the
program's kind (a core module or a component), instantiate, call ``handle``
with the request (JSON, or for the JS runtime a request frame:
host_api.request.encode_frame), read and check the reply, drop the Store.
Nothing survives the call. A failure is an ``IsolateError`` carrying, like a
result, the fuel used and the log lines; its message and stack are masked like
the logs.

Dropping the Store resets its pooling slot (the memory copied back from the
snapshot's image: see ``PoolingSettings``), the largest part of a small call
that the response does not need. With ``release`` the caller decides when: ``run``
hands it the function that drops the Store, to call once the response is on its
way (``loop.call_soon``, a worker's next step). Nothing else refers to the Store
after ``run`` returns; its slot stays taken until that function is called.

Safe to call from several threads at once: each call has its own Store, the
GIL is released while guest code runs, and host functions find their call
through a thread-local (isolates.call_context).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from host_api.log import CallLog, LogRecord, SecretMask
from host_api.request import FrameUnsupported, encode_frame
from isolates.call_context import CallContext, set_current
from isolates.capabilities import GuestFetch, open_log
from isolates.capabilities.clock import monotonic_ns
from isolates.component_instance import ComponentInstance
from isolates.engine import Engine
from isolates.errors import IsolateError
from isolates.instance import DeferredClose
from isolates.module_instance import ModuleInstance
from isolates.program import ComponentProgram, ModuleProgram, Program
from isolates.response import result_from_reply
from isolates.result import InvokeResult
from isolates.spec import CallSpec

DEFAULT_SPEC = CallSpec()
T = TypeVar("T")
Release = Callable[[Callable[[], None]], object]  # e.g. loop.call_soon, or a list's append


def run(program: Program, request: Mapping[str, Any] | bytes, spec: CallSpec = DEFAULT_SPEC, *,
        engine: Engine | None = None, release: Release | None = None) -> InvokeResult:
    """Run one request in a fresh isolate; raise an ``IsolateError`` subclass on failure.

    ``request`` is the request object (``host_api.request.guest_request``), or its JSON.
    ``release``: None drops the Store before ``run`` returns; else ``run`` calls
    ``release(close)`` as it returns or raises, and ``close()`` (once, from any thread,
    never raising) drops the Store and frees its pooling slot: call it soon."""
    payload = request_payload(program, request)

    def handle(instance: ModuleInstance | ComponentInstance, log: CallLog) -> InvokeResult:
        result = result_from_reply(instance.handle(payload), spec.limits)
        result.fuel_used = instance.fuel_used()
        result.phases_us = instance.phases_us
        result.logs = log.records
        result.logs_dropped = log.dropped
        result.memory_bytes = _memory_bytes(instance)
        return result

    return _in_isolate(program, spec, engine, release, handle)


def _in_isolate(program: Program, spec: CallSpec, engine: Engine | None, release: Release | None,
                work: Callable[[ModuleInstance | ComponentInstance, CallLog], T]) -> T:
    """``work`` on a fresh, started instance of ``program``, with the call's log and fetch
    from ``spec``; a failure carries what the call used and logged. The Store is dropped
    before returning, or handed to ``release``."""
    log = open_log(spec)
    fetch = GuestFetch(spec, log)
    context = CallContext(log=log, fetch=fetch, storage=spec.storage)
    instance: ModuleInstance | ComponentInstance | None = None
    try:
        instance = _new_instance(program, spec, engine or Engine.shared(), context)
        set_current(context)
        instance.start()
        return work(instance, log)
    except IsolateError as error:
        _account(error, instance, log)
        raise
    finally:
        set_current(None)
        if instance is not None:
            if release is None:
                instance.close()
            else:
                _hand_over(instance.close_later(), release)
        fetch.close()


def _hand_over(close: DeferredClose, release: Release) -> None:
    try:
        release(close)
    except BaseException:
        close()  # the caller could not take it: close now rather than hold the slot
        raise


def request_payload(program: Program, request: Mapping[str, Any] | bytes) -> bytes:
    """What ``handle`` is given: JSON bytes as they are; a request object as a frame where the
    program reads frames (the JS runtime), else as JSON."""
    if isinstance(request, bytes):
        return request
    if isinstance(program, ModuleProgram) and program.request_frames:
        try:
            return encode_frame(request, monotonic_ns())  # the guest's monotonic clock, now
        except FrameUnsupported:
            pass  # orjson says what it makes of it
    return orjson.dumps(request)


@dataclass(frozen=True)
class Initialized:
    """A module's memory after its init ran once (the stuff of a snapshot)."""

    image: bytes
    fuel_used: int
    logs: list[LogRecord]


def initialize(program: ModuleProgram, spec: CallSpec, *, engine: Engine | None = None) -> Initialized:
    """Instantiate and run ``program``'s init, metered like a request; keep its memory."""

    def keep_memory(instance: ModuleInstance | ComponentInstance, log: CallLog) -> Initialized:
        assert isinstance(instance, ModuleInstance)
        return Initialized(instance.memory_image(), instance.fuel_used(), log.records)

    return _in_isolate(program, spec, engine, None, keep_memory)


def _memory_bytes(instance: ModuleInstance | ComponentInstance) -> int | None:
    """A core module's linear memory size as its handle returned, in bytes: its peak so far
    (a Wasm memory never shrinks)."""
    return instance.memory_bytes if isinstance(instance, ModuleInstance) else None


def _new_instance(program: Program, spec: CallSpec, engine: Engine,
                  context: CallContext) -> ModuleInstance | ComponentInstance:
    if isinstance(program, ComponentProgram):
        return ComponentInstance(engine, program, spec.limits, context)
    return ModuleInstance(engine, program, spec.limits, context)


def _account(error: IsolateError, instance: ModuleInstance | ComponentInstance | None, log: CallLog) -> None:
    """What a failed call used and logged, on its error; secrets masked out of it."""
    error.fuel_used = instance.fuel_used() if instance is not None else 0
    error.logs = log.records
    error.logs_dropped = log.dropped
    if log.mask:
        _mask(error, log.mask)


def _mask(error: IsolateError, mask: SecretMask) -> None:
    """Secret values out of an error's message and stack (they leave the service in responses)."""
    error.message = mask(error.message)
    error.args = (error.message,)
    if error.stack:
        error.stack = mask(error.stack)
