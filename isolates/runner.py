"""The one door for a call: ``run(program, request, spec) -> InvokeResult``.

Steps (DESIGN.md, "The request path"): build the call's state from the spec
(its log, its fetch session; capabilities/), create a fresh Store for the
program's kind (a core module or a component), instantiate, call ``handle``
with the request JSON, read and check the reply, close the Store. Nothing
survives the call. A failure is an ``IsolateError`` carrying, like a result,
the fuel used and the log lines; its message and stack are masked like the logs.

Safe to call from several threads at once: each call has its own Store, the
GIL is released while guest code runs, and host functions find their call
through a thread-local (isolates.call_context).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from host_api.log import LogRecord, SecretMask
from isolates.call_context import CallContext, set_current
from isolates.capabilities import GuestFetch, open_log
from isolates.component_instance import ComponentInstance
from isolates.engine import Engine
from isolates.errors import IsolateError
from isolates.module_instance import ModuleInstance
from isolates.program import ComponentProgram, ModuleProgram, Program
from isolates.response import result_from_reply
from isolates.result import InvokeResult
from isolates.spec import CallSpec

DEFAULT_SPEC = CallSpec()


def run(program: Program, request: Mapping[str, Any] | bytes, spec: CallSpec = DEFAULT_SPEC, *,
        engine: Engine | None = None) -> InvokeResult:
    """Run one request in a fresh isolate; raise an ``IsolateError`` subclass on failure."""
    payload = request if isinstance(request, bytes) else orjson.dumps(request)
    with _opened(program, spec, engine) as (instance, context):
        instance.start()
        result = result_from_reply(instance.handle(payload), spec.limits)
        result.fuel_used = instance.fuel_used()
        result.phases_us = instance.phases_us  # "close" is added as the Store is dropped
        result.logs = context.log.records
        result.logs_dropped = context.log.dropped
        return result


@dataclass(frozen=True)
class Initialized:
    """A module's memory after its init ran once (the stuff of a snapshot)."""

    image: bytes
    fuel_used: int
    logs: list[LogRecord]


def initialize(program: ModuleProgram, spec: CallSpec, *, engine: Engine | None = None) -> Initialized:
    """Instantiate and run ``program``'s init, metered like a request; keep its memory."""
    with _opened(program, spec, engine) as (instance, context):
        assert isinstance(instance, ModuleInstance)
        instance.start()
        return Initialized(instance.memory_image(), instance.fuel_used(), context.log.records)


@contextmanager
def _opened(program: Program, spec: CallSpec,
            engine: Engine | None) -> Iterator[tuple[ModuleInstance | ComponentInstance, CallContext]]:
    log = open_log(spec)
    fetch = GuestFetch(spec, log)
    context = CallContext(log=log, fetch=fetch)
    engine = engine or Engine.shared()
    instance: ModuleInstance | ComponentInstance | None = None
    try:
        if isinstance(program, ComponentProgram):
            instance = ComponentInstance(engine, program, spec.limits, context)
        else:
            instance = ModuleInstance(engine, program, spec.limits, context)
        set_current(context)
        yield instance, context
    except IsolateError as error:
        error.fuel_used = instance.fuel_used() if instance is not None else 0
        error.logs = log.records
        error.logs_dropped = log.dropped
        if log.mask:
            _mask(error, log.mask)
        raise
    finally:
        set_current(None)
        if instance is not None:
            instance.close()
        fetch.close()


def _mask(error: IsolateError, mask: SecretMask) -> None:
    """Secret values out of an error's message and stack (they leave the service in responses)."""
    error.message = mask(error.message)
    error.args = (error.message,)
    if error.stack:
        error.stack = mask(error.stack)
