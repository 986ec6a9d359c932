"""A source's ``schedule``: parsed, validated and turned into an APScheduler 3.x trigger.

Validation builds the trigger itself, so whatever loads from the config also runs.
The cron form is read the way crontab reads it.

APScheduler 3's cron trigger differs from crontab(5) in two ways this module corrects:
its weekday numbers start at Monday (crontab: 0 and 7 are Sunday), so day-of-week
fields are translated to weekday names; and when both day-of-month and day-of-week
are restricted, crontab runs on days matching *either*, so that case becomes an
``OrTrigger`` of two cron triggers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # apscheduler is imported where a trigger is built: configs load without it
    from apscheduler.triggers.base import BaseTrigger

__all__ = [
    "MAX_INTERVAL",
    "Schedule",
    "cron_trigger",
    "cron_weekdays",
    "make_trigger",
    "parse_duration",
    "schedule_period",
]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: sun = 0 (and 7)


MAX_INTERVAL = 366 * 86400.0
"""The longest interval or duration a config may give: 366 days, in seconds."""

_DURATION = re.compile(r"(\d+)(\.\d+)?\s*(s|sec|m|min|h|d)?", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_DIGITS = 9  # a whole part longer than this is absurd (and would overflow a float)


def parse_duration(text: str, *, minimum: float = 1.0, maximum: float = MAX_INTERVAL) -> float:
    """``"30s"``, ``"10m"``, ``"1.5h"``, ``"2d"`` or ``"45"`` (seconds) in seconds.

    Raises ``ValueError`` naming the bounds when the text is not a duration or lies
    outside ``minimum``..``maximum`` seconds; an absurdly long number is refused before
    it is converted, so no float overflows to infinity.
    """
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like '30s', '10m', '6h' or '2d'")
    whole, fraction, unit = match.groups()
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise ValueError(f"{text!r} is longer than {_describe(maximum)}")
    seconds = float(whole + (fraction or "")) * _UNIT_SECONDS[(unit or "s").lower()[0]]
    if seconds < minimum:
        raise ValueError(f"{text!r} is shorter than {_describe(minimum)}")
    if seconds > maximum:
        raise ValueError(f"{text!r} is longer than {_describe(maximum)}")
    return seconds


def _describe(seconds: float) -> str:
    """``86400`` -> ``"1 day"``, ``60`` -> ``"60 seconds"``: bounds in error messages."""
    if seconds >= 86400 and seconds % 86400 == 0:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds == 1:
        return "one second"
    return f"{seconds:g} seconds"


@dataclass(frozen=True)
class Schedule:
    """When the scheduler runs a source: a 5-field cron expression or a fixed interval."""

    kind: str  # "cron" or "interval"
    cron: str | None = None
    seconds: float | None = None
    text: str = field(default="", compare=False)  # as written; "every 1h" == "every 60m"

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Parse ``"*/15 * * * *"`` or ``"every 10m"``; raise ``ValueError`` if neither.

        An interval is 1 second to 366 days (:data:`MAX_INTERVAL`), in the syntax of
        :func:`parse_duration`.
        """
        value = text.strip()
        match = re.fullmatch(r"every\s+(\S.*)", value, re.IGNORECASE | re.DOTALL)
        if match:
            try:
                seconds = parse_duration(match.group(1), minimum=1.0)
            except ValueError as exc:
                raise ValueError(f"invalid interval {value!r}: {exc}") from None
            return cls(kind="interval", seconds=seconds, text=value)
        fields = value.split()
        if len(fields) != 5:
            raise ValueError(
                f"{text!r} is neither a 5-field cron expression nor an interval like 'every 10m'"
            )
        try:  # the very code the scheduler builds its trigger with
            cron_trigger(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {text!r}: {exc}") from None
        return cls(kind="cron", cron=value, text=value)

    def trigger(self, *, jitter: float = 0.0, timezone: tzinfo | str | None = None) -> BaseTrigger:
        """The APScheduler trigger (see :func:`make_trigger`)."""
        return make_trigger(self, jitter=jitter, timezone=timezone)


def make_trigger(
    schedule: Schedule, *, jitter: float = 0.0, timezone: tzinfo | str | None = None
) -> BaseTrigger:
    """The trigger for ``schedule``; cron fields are read in ``timezone`` (None: local)."""
    from apscheduler.triggers.interval import IntervalTrigger

    if schedule.kind == "interval" and schedule.seconds:
        return IntervalTrigger(seconds=schedule.seconds, jitter=jitter or None, timezone=timezone)
    if schedule.kind == "cron" and schedule.cron:
        return cron_trigger(schedule.cron, jitter=jitter, timezone=timezone)
    raise ValueError(f"schedule {schedule.text!r}: neither a cron expression nor an interval")


def cron_trigger(
    expr: str, *, jitter: float = 0.0, timezone: tzinfo | str | None = None
) -> BaseTrigger:
    """A 5-field crontab expression with crontab's weekday numbers and day matching."""
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

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
