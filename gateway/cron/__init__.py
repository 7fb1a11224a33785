"""Cron: functions deployed with ``schedule`` run at its ticks, once per tick across every host.

    expression.py  the schedule's syntax (standard five-field cron, UTC, via croniter) and its next tick
    store.py       Schedules: the ``schedules`` table; a due tick is claimed and queued as a job in one
                   transaction (gateway/jobs), so exactly one worker anywhere queues it
    scheduler.py   the loop every worker runs (started by ``Gateway.start``)
"""
