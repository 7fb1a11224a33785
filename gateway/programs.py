"""Deployed programs kept compiled in memory, over the registry (which keeps only source).

A hit costs a dict lookup; a miss (first call after a restart, or after an
eviction) loads the current version from the registry and prepares it again
(a JS snapshot costs ~10-20 ms). One lock per function orders lazy loads,
deploys and deletes, so a slow load can never put back a stale or deleted version.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from gateway.registry import FunctionVersion, Registry
from host_api.errors import CodedError
from isolates import Program

Key = tuple[str, str]  # (tenant, function)
logger = logging.getLogger("wasmtask.gateway")


@dataclass(frozen=True)
class Deployed:
    version: FunctionVersion
    program: Program


Prepare = Callable[[FunctionVersion], Awaitable[Program]]


class ProgramCache:
    def __init__(self, registry: Registry, prepare: Prepare, size: int) -> None:
        self.registry = registry
        self.prepare = prepare
        self.size = size
        self._entries: OrderedDict[Key, Deployed] = OrderedDict()
        self._locks: dict[Key, anyio.Lock] = {}
        self._reloads: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def _lock(self, key: Key) -> anyio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = anyio.Lock()
        return lock

    def _put(self, key: Key, deployed: Deployed) -> None:
        existing = self._entries.get(key)
        if existing is not None and existing.version.serial > deployed.version.serial:  # never back to an older one
            return
        self._entries[key] = deployed
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def get(self, tenant: str, name: str) -> Deployed:
        """The function's current program; ``NotFound`` if it has none."""
        key = (tenant, name)
        deployed = self._entries.get(key)
        if deployed is not None:
            self._entries.move_to_end(key)
            return deployed
        async with self._lock(key):
            deployed = self._entries.get(key)
            if deployed is None:
                version = await anyio.to_thread.run_sync(self.registry.current, tenant, name)
                deployed = Deployed(version, await self.prepare(version))
                self._put(key, deployed)
            return deployed

    async def commit(self, version_of: Callable[[], FunctionVersion], program: Program, key: Key) -> Deployed:
        """Run the registry write ``version_of`` (a deploy) and serve its result from now on."""
        async with self._lock(key):
            version = await anyio.to_thread.run_sync(version_of)
            deployed = Deployed(version, program)
            self._put(key, deployed)
            return deployed

    async def delete(self, key: Key, delete: Callable[[], None]) -> None:
        async with self._lock(key):
            await anyio.to_thread.run_sync(delete)
            self._entries.pop(key, None)

    async def invalidate(self, key: Key, serial: int | None = None) -> bool:
        """Another worker deployed (``serial``: the new version's) or deleted this function: drop
        the cached program unless it is that version or newer, and prepare the current one again
        in the background if it was cached here (so the next call does not wait for it).
        Returns whether a program was dropped."""
        async with self._lock(key):
            existing = self._entries.get(key)
            if existing is not None and serial is not None and existing.version.serial >= serial:
                return False  # this worker made the deploy, or has seen it already
            cached = self._entries.pop(key, None) is not None
        if cached:
            task = asyncio.get_running_loop().create_task(self._reload(key))
            self._reloads.add(task)
            task.add_done_callback(self._reloads.discard)
        return cached

    async def _reload(self, key: Key) -> None:
        try:
            await self.get(*key)
        except (CodedError, OSError) as exc:  # deleted meanwhile, or the registry is away: the next call will say
            logger.info("reloading %s/%s after a change: %s", *key, exc)

    def forget_tenant(self, tenant: str) -> None:
        for key in [key for key in self._entries if key[0] == tenant]:
            del self._entries[key]
