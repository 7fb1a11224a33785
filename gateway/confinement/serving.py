"""How ``wasmtask serve`` boots a serving process: builder first, then the gateway's state, then confinement.

One worker (gateway/cli/server.py): the serve process starts the builder, builds
its ``Gateway`` (keys read, registry open) with the builder's client as its
compiler, then ``confine_serving`` just before uvicorn starts, while it is the
only thread.

Several workers: the supervisor starts one builder for all of them and names its
directory in ``WASMTASK_BUILDER``. uvicorn spawns each worker and starts a
health-check thread in it before loading the app, too late to confine (Landlock
leaves earlier threads out), so the supervisor runs uvicorn with
``ConfiningConfig``: its per-process set-up (``configure_logging``, the first
thing a spawned worker runs) builds the worker's ``Gateway`` and confines the
process; ``gateway.app.worker_app`` then serves that ``Gateway``.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from gateway.config import Settings
from gateway.confinement import SandboxState, SandboxUnavailable, check_required, confine
from gateway.confinement.policy import serving_policy
from gateway.service import Gateway
from toolchains.builder import BuilderClient

logger = logging.getLogger("wasmtask.sandbox")

BUILDER_VARIABLE = "WASMTASK_BUILDER"  # the builder's directory (socket and key), for spawned workers

_booted: Gateway | None = None


def confine_serving(settings: Settings, bind_ports: tuple[int, ...] = (), gateway: Gateway | None = None
                    ) -> SandboxState:
    """Confine this serving process (``settings.sandbox``); exits with status 2 when it is required and
    unavailable, after saying why. ``gateway``: its helper threads end first (they start again when needed,
    confined then)."""
    if gateway is not None:
        stop_helper_threads(gateway)
    try:
        return confine(settings, serving_policy(settings, bind_ports))
    except SandboxUnavailable as exc:
        print(f"wasmtask: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def stop_helper_threads(gateway: Gateway) -> None:
    """The threads boot may have started: the PostgreSQL registry's watchdog."""
    if gateway.settings.database_url:
        from gateway.registry.postgres import PostgresDatabase  # psycopg: only when configured

        if isinstance(gateway.registry.database, PostgresDatabase):
            gateway.registry.database.stop_watchdog()


def builder_client_from_env() -> BuilderClient | None:
    directory = os.environ.get(BUILDER_VARIABLE)
    return BuilderClient.from_directory(Path(directory)) if directory else None


def boot_worker() -> None:
    """In a spawned worker: its ``Gateway``, built now (keys, registry), then confinement."""
    global _booted
    settings = Settings.from_env()
    _booted = Gateway(settings, compiler=builder_client_from_env())
    confine_serving(settings, gateway=_booted)  # binds nothing: the supervisor bound the listening socket


def booted_gateway() -> Gateway | None:
    """The ``Gateway`` that ``boot_worker`` built in this process, once (None elsewhere)."""
    global _booted
    gateway, _booted = _booted, None
    return gateway


class ConfiningConfig(uvicorn.Config):
    """uvicorn's ``Config``, whose set-up in each spawned worker process boots and confines it
    before uvicorn starts a thread there."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.supervisor_pid = os.getpid()  # set before Config.__init__, which configures logging here too
        super().__init__(*args, **kwargs)

    def configure_logging(self) -> None:
        super().configure_logging()
        if os.getpid() != self.supervisor_pid:
            boot_worker()


def run_workers(app: str, **options: Any) -> None:
    """``uvicorn.run(app, workers=N, ...)`` with ``ConfiningConfig``: one listening socket bound here,
    N spawned workers that confine themselves, a dead one replaced, SIGTERM drains."""
    try:
        check_required(Settings.from_env())  # here, not in N workers that uvicorn would restart forever
    except SandboxUnavailable as exc:
        print(f"wasmtask: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    config = ConfiningConfig(app, **options)
    listener = tcp_listener(config.bind_socket())
    try:
        Multiprocess(config, sockets=[listener]).run()
    except KeyboardInterrupt:
        pass


def tcp_listener(listener: socket.socket) -> socket.socket:
    """The listening socket, labelled as TCP (``IPPROTO_TCP``, not uvicorn's 0). asyncio sets
    TCP_NODELAY only on connections whose socket says TCP, and a connection inherits the label from
    the listener: unlabelled, every small response waited for the client's delayed ACK (Nagle),
    ~44 ms a request at one connection with ``--workers 2`` against 0.5 ms with one worker."""
    if listener.family not in (socket.AF_INET, socket.AF_INET6) or listener.proto == socket.IPPROTO_TCP:
        return listener
    return socket.socket(listener.family, listener.type, socket.IPPROTO_TCP, fileno=listener.detach())
