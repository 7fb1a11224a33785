"""Deployed programs kept in memory, the rest mapped from disk, over the registry (which keeps only source).

A hit costs a dict lookup. A miss (first call after a restart, or after an
eviction) loads the current version from the registry and maps its prepared
artifact from disk (gateway/artifacts.py: ~1 ms); only where this host has no
file for it (another host deployed it, or the file was damaged) is it prepared
again from source (a JS snapshot costs ~15-30 ms), once per host: concurrent
first calls, in any worker, wait for one build. An entry holds a mapping of its
file, so evicting it costs little and the workers share the pages. One lock per
function orders lazy loads, deploys and deletes, so a slow load can never put
back a stale or deleted version.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from gateway.artifacts import ArtifactStore, Staged
from gateway.errors import StorageFull
from gateway.registry import FunctionVersion, Registry
from host_api.errors import CodedError
from isolates import ModuleProgram, Program

Key = tuple[str, str]  # (tenant, function)
logger = logging.getLogger("wasmtask.gateway")


@dataclass(frozen=True)
class Deployed:
    version: FunctionVersion
    program: Program


Prepare = Callable[[FunctionVersion], Awaitable[Program]]


def in_memory(program: Program) -> Program:
    """``program`` as it is kept in memory: without its image's Wasm, needed only to write its file."""
    if isinstance(program, ModuleProgram) and program.image_wasm is not None:
        return dataclasses.replace(program, image_wasm=None)
    return program


class ProgramCache:
    def __init__(self, registry: Registry, prepare: Prepare, size: int, artifacts: ArtifactStore | None = None) -> None:
        self.registry = registry
        self.prepare = prepare
        self.size = size
        self.artifacts = artifacts
        self.prepares = 0  # programs prepared from source on a miss (not deploys): each one is a miss without a file
        self.artifact_loads = 0  # programs mapped from their file on a miss
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
                deployed = Deployed(version, await self._program_of(version))
                self._put(key, deployed)
            return deployed

    async def _program_of(self, version: FunctionVersion) -> Program:
        """``version``'s program: mapped from its file, else built (and its file written) once per host."""
        artifacts = self.artifacts
        if artifacts is None:
            self.prepares += 1
            return in_memory(await self.prepare(version))
        program = await anyio.to_thread.run_sync(artifacts.load, version)
        if program is not None:
            self.artifact_loads += 1
            return program
        lock = artifacts.build_lock(version.tenant, version.function)
        await anyio.to_thread.run_sync(lock.acquire)  # waits while another worker of this host builds it
        try:
            program = await anyio.to_thread.run_sync(artifacts.load, version)
            if program is not None:  # the other worker's
                self.artifact_loads += 1
                return program
            self.prepares += 1
            program = await self.prepare(version)
            return await self._store(await self._stage(program, version.tenant, version.function, required=False),
                                     version, program)
        finally:
            lock.release()

    async def _stage(self, program: Program, tenant: str, function: str, *, required: bool,
                     base: FunctionVersion | None = None) -> Staged | None:
        """``program``'s file under a temporary name. ``required`` (a deploy): a full disk raises
        ``StorageFull``; else (a rebuild on a miss, or a writer that will not: the builder away) the
        program is served from memory and the error logged."""
        assert self.artifacts is not None
        try:
            return await anyio.to_thread.run_sync(self.artifacts.stage, program, tenant, function, base)
        except (CodedError, OSError) as exc:
            if required and isinstance(exc, StorageFull):
                raise
            logger.warning("prepared program of %s/%s not written (served from memory): %s", tenant, function, exc)
            return None

    async def _store(self, staged: Staged | None, version: FunctionVersion, program: Program) -> Program:
        """Make ``staged`` ``version``'s file, and serve the program mapped from it (its pages shared
        with the other workers, and cheap to drop), or ``program`` where that fails."""
        if staged is None or self.artifacts is None:
            return in_memory(program)
        try:
            await anyio.to_thread.run_sync(self.artifacts.publish, staged, version)
            mapped = await anyio.to_thread.run_sync(self.artifacts.load, version)
        except (CodedError, OSError) as exc:  # the version is committed: it serves, and a later miss rebuilds
            logger.warning("prepared program of %s/%s %s not written (served from memory): %s", version.tenant,
                           version.function, version.version_id, exc)
            return in_memory(program)
        return mapped if mapped is not None else in_memory(program)

    async def commit(self, version_of: Callable[[], FunctionVersion], program: Program, key: Key,
                     base: FunctionVersion | None = None) -> Deployed:
        """Write ``program``'s file, run the registry write ``version_of`` (a deploy) and serve its result
        from now on. ``StorageFull`` (before the registry write) when the disk has no room for the file.
        ``base``: the version whose program ``program`` is (a change of secrets), its file copied."""
        staged = await self._stage(program, *key, required=True, base=base) if self.artifacts is not None else None
        try:
            async with self._lock(key):
                version = await anyio.to_thread.run_sync(version_of)
                deployed = Deployed(version, await self._store(staged, version, program))
                self._put(key, deployed)
                return deployed
        except BaseException:
            if staged is not None and self.artifacts is not None:
                self.artifacts.discard(staged)  # gone already once published
            raise

    async def delete(self, key: Key, delete: Callable[[], None]) -> None:
        async with self._lock(key):
            await anyio.to_thread.run_sync(delete)
            self._entries.pop(key, None)
            await self.remove_files(key)

    async def remove_files(self, key: Key) -> None:
        """Remove a deleted function's files from this host."""
        if self.artifacts is not None:
            await anyio.to_thread.run_sync(self.artifacts.remove_function, *key)

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
