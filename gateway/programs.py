"""Deployed programs kept compiled in memory, over the registry (which keeps only source).

A hit costs a dict lookup; a miss (first call after a restart, or after an
eviction) loads the current version from the registry and prepares it again
(a JS snapshot costs ~10-20 ms). One lock per function orders lazy loads,
deploys and deletes, so a slow load can never put back a stale or deleted version.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from gateway.registry import FunctionVersion, Registry
from isolates import Program

Key = tuple[str, str]  # (tenant, function)


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

    def __len__(self) -> int:
        return len(self._entries)

    def _lock(self, key: Key) -> anyio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = anyio.Lock()
        return lock

    def _put(self, key: Key, deployed: Deployed) -> None:
        existing = self._entries.get(key)
        if existing is not None and existing.version.version > deployed.version.version:
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

    def forget_tenant(self, tenant: str) -> None:
        for key in [key for key in self._entries if key[0] == tenant]:
            del self._entries[key]
