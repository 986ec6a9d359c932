"""A source's ``schedule`` as an APScheduler 3.x trigger, read the way crontab reads it.

APScheduler 3's cron trigger differs from crontab(5) in two ways this module corrects:
its weekday numbers start at Monday (crontab: 0 and 7 are Sunday), so day-of-week
fields are translated to weekday names; and when both day-of-month and day-of-week
are restricted, crontab runs on days matching *either*, so that case becomes an
``OrTrigger`` of two cron triggers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .config import Schedule

__all__ = ["cron_trigger", "cron_weekdays", "make_trigger", "schedule_period"]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: sun = 0 (and 7)


def make_trigger(
    schedule: Schedule, *, jitter: float = 0.0, timezone: tzinfo | str | None = None
) -> BaseTrigger:
    """The trigger for ``schedule``; cron fields are read in ``timezone`` (None: local)."""
    if schedule.kind == "interval" and schedule.seconds:
        return IntervalTrigger(seconds=schedule.seconds, jitter=jitter or None, timezone=timezone)
    if schedule.kind == "cron" and schedule.cron:
        return cron_trigger(schedule.cron, jitter=jitter, timezone=timezone)
    raise ValueError(f"schedule {schedule.text!r}: neither a cron expression nor an interval")


def cron_trigger(
    expr: str, *, jitter: float = 0.0, timezone: tzinfo | str | None = None
) -> BaseTrigger:
    """A 5-field crontab expression with crontab's weekday numbers and day matching."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expr!r}: expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    common: dict[str, Any] = {"minute": minute, "hour": hour, "month": month, "timezone": timezone}
    weekdays = cron_weekdays(weekday)
    if day.startswith("*") or weekday.startswith("*"):
        return CronTrigger(day=day, day_of_week=weekdays, jitter=jitter or None, **common)
    either = [CronTrigger(day=day, **common), CronTrigger(day_of_week=weekdays, **common)]
    return OrTrigger(either, jitter=jitter or None)


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (numbers, names, ranges, steps) as APScheduler weekday names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text, field) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _day(low, field)
            last = _day(high, field) if high else (7 if step_text else first)
        if step < 1 or first > last:
            raise ValueError(f"day-of-week field {field!r}: invalid part {part!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day(token: str, field: str) -> int:
    if token[:3] in _DAYS and token.isalpha():
        return _DAYS.index(token[:3])
    value = _number(token, field)
    if value > 7:
        raise ValueError(f"day-of-week field {field!r}: {token!r} is not a day (0-7 or sun-sat)")
    return value


def _number(token: str, field: str) -> int:
    if not token.isdigit():
        raise ValueError(f"day-of-week field {field!r}: {token!r} is not a number or day name")
    return int(token)


def schedule_period(schedule: Schedule, now: datetime) -> float:
    """Seconds between runs: the interval, or a cron expression's longest gap among the next few."""
    if schedule.kind == "interval" and schedule.seconds:
        return float(schedule.seconds)
    trigger = make_trigger(schedule, timezone="UTC")
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and len(times) < 8:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return max(gaps, default=86400.0)
