"""The scheduler every gateway process runs (started by ``Gateway.start``).

Every ``poll_seconds`` it reads the earliest due time of all schedules (one indexed
read); when a tick is due it claims what is due (gateway/cron/store.py), which queues
one job per tick, and wakes this process's job worker. Whichever worker claims the
job runs it: at least once, with the job's retries. ``clock`` is injectable: the
tests move time on instead of waiting for minutes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import anyio.to_thread

from gateway.cron.store import Schedules, Tick
from gateway.errors import GatewayError

logger = logging.getLogger("wasmtask.cron")

POLL_SECONDS = 1.0


class Scheduler:
    def __init__(self, schedules: Schedules, on_ticks: Callable[[list[Tick]], None], *,
                 clock: Callable[[], float] = time.time, poll_seconds: float = POLL_SECONDS) -> None:
        self.schedules = schedules
        self.on_ticks = on_ticks
        self.clock = clock
        self.poll_seconds = poll_seconds

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.tick()
            except GatewayError as exc:  # the registry is away: the ticks wait for it (and run once then)
                logger.warning("cron: %s", exc.message)
            except Exception:  # a bug: logged, and the scheduler goes on
                logger.exception("cron: claiming ticks failed")

    async def tick(self) -> list[Tick]:
        """Claim and queue what is due now; the ticks claimed by this process."""
        now = self.clock()
        due = await anyio.to_thread.run_sync(self.schedules.next_due)
        if due is None or due > now:
            return []
        ticks = await anyio.to_thread.run_sync(lambda: self.schedules.claim_due(now=now))
        for tick in ticks:
            logger.info("cron: %s/%s tick of %s queued as %s", tick.tenant, tick.function,
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tick.due)), tick.job)
        if ticks:
            self.on_ticks(ticks)
        return ticks
