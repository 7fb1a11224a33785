"""A function's schedule: a standard cron expression (five fields, UTC), parsed by croniter.

``minute hour day-of-month month day-of-week`` with ``*``, lists, ranges and steps
(``*/5 * * * *``, ``0 9 * * 1-5``), names (``jan``, ``mon``) and the nicknames
``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``. As in cron, when both
day fields are restricted a day matching either one matches. Five fields only: a
seconds field is refused, so the shortest interval is one minute (``* * * * *``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter

from gateway.errors import InvalidRequest

MAX_EXPRESSION_CHARS = 120
NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MIN_INTERVAL_SECONDS = 60


def check_expression(value: object) -> str:
    """The schedule as given, or ``InvalidRequest`` saying what is wrong with it."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_EXPRESSION_CHARS:
        raise InvalidRequest('schedule must be a cron expression of five fields (UTC), e.g. "*/5 * * * *"')
    expression = " ".join(value.split())
    if expression.startswith("@"):
        if expression.lower() not in NICKNAMES:
            raise InvalidRequest(f"schedule: unknown nickname {expression!r} (one of {', '.join(NICKNAMES)})")
        return expression.lower()
    fields = expression.split(" ")
    if len(fields) != 5:
        raise InvalidRequest(f"schedule {expression!r} has {len(fields)} fields; cron has five: minute hour"
                             ' day-of-month month day-of-week (UTC), e.g. "*/5 * * * *" (at most once a minute)')
    if not croniter.is_valid(expression):
        raise InvalidRequest(f"schedule {expression!r} is not a valid cron expression"
                             ' (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5")')
    try:
        next_tick(expression, 0.0)
    except (ValueError, KeyError, OverflowError) as exc:  # croniter: a day that never comes (30 feb)
        raise InvalidRequest(f"schedule {expression!r} never fires: {exc}") from None
    return expression


def next_tick(expression: str, after: float) -> float:
    """The first tick of ``expression`` strictly after ``after`` (Unix seconds, UTC)."""
    start = datetime.fromtimestamp(after, tz=UTC)
    return float(croniter(expression, start).get_next(float))


def deploy_schedule(value: object) -> str | None:
    """A deploy's ``schedule`` field: the checked expression, or None (null or "") for no schedule."""
    if value is None or value == "":
        return None
    return check_expression(value)
