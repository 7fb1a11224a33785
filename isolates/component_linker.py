"""The component Linker: every capability's ``ComponentFunction``, and traps for the rest of WASI.

Not wasmtime's WASI p2 (``Linker.add_wasip2``): its blocking calls (poll, a
clock's subscribe, blocking stream reads) run on the host, where the epoch
deadline cannot interrupt them: a guest that sleeps past its deadline holds the
thread for the whole sleep (shown in benches/README.md, "Why the hot path is
shaped this way"). So a component gets exactly what the capabilities
provide, and every other import traps when called
(``define_unknown_imports_as_traps``): no files, sockets, stdio, sleeping or polling.
"""

from __future__ import annotations

import threading

import wasmtime.component as wc

from isolates import raw_component
from isolates.capabilities import CAPABILITIES, ComponentFunction
from isolates.engine import Engine

COMPONENT_FUNCTIONS: tuple[ComponentFunction, ...] = tuple(f for c in CAPABILITIES for f in c.component_functions)
ROOT_FUNCTIONS = tuple(f for f in COMPONENT_FUNCTIONS if not f.interface)
INTERFACES = {f.interface for f in COMPONENT_FUNCTIONS if f.interface}
_RAW_CALLBACKS = {(f.interface, f.name): raw_component.bytes_callback(f.implementation)
                  for f in COMPONENT_FUNCTIONS if f.returns_bytes}


def component_imports(engine: Engine, component: wc.Component) -> tuple[str, ...]:
    with component.type as component_type:
        return tuple(sorted(component_type.imports(engine.wasmtime)))


def new_linker(engine: Engine, component: wc.Component, imports: tuple[str, ...]) -> wc.Linker:
    """A Linker for a component importing ``imports`` (instance names, with @version)."""
    linker = wc.Linker(engine.wasmtime)
    with linker.root() as root:
        for function in ROOT_FUNCTIONS:
            root.add_func(function.name, function.implementation)
        for name in imports:
            interface = name.split("@", 1)[0]
            if interface not in INTERFACES:
                continue
            with root.add_instance(name) as instance:
                for function in COMPONENT_FUNCTIONS:
                    if function.interface != interface:
                        continue
                    if function.returns_bytes:
                        raw_component.add_raw_func(instance, function.name, _RAW_CALLBACKS[(interface, function.name)])
                    else:
                        instance.add_func(function.name, function.implementation)
    linker.define_unknown_imports_as_traps(component)
    return linker


_linkers = threading.local()


def thread_linker(engine: Engine, component: wc.Component, imports: tuple[str, ...]) -> wc.Linker:
    """This thread's Linker for components with these imports."""
    linkers = getattr(_linkers, "by_imports", None)
    if linkers is None or getattr(_linkers, "engine", None) is not engine:
        linkers = _linkers.by_imports = {}
        _linkers.engine = engine
    linker = linkers.get(imports)
    if linker is None:
        linker = linkers[imports] = new_linker(engine, component, imports)
    return linker
