"""Schedules from config ("interval:3h", "interval:30m", "cron:15 */3 * * *") as APScheduler
triggers, each with the slot function that names one firing for exactly-once claiming."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cwerrors import ConfigError

_INTERVAL = re.compile(r"^interval:(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    trigger: BaseTrigger
    # The name of the slot a firing at this moment belongs to: every process that fires "the
    # same" run computes the same name, so only one of them wins the claim.
    slot: Callable[[datetime], str]
    description: str


def interval(seconds: float, timezone: str, *, jitter: bool = True) -> Schedule:
    """Every ``seconds``, aligned to the epoch so that every process fires at the same instants."""
    now = datetime.now(UTC).timestamp()
    start = datetime.fromtimestamp(math.ceil(now / seconds) * seconds, UTC)
    spread = int(min(seconds * 0.1, 60)) if jitter else None
    trigger = IntervalTrigger(
        seconds=seconds, start_date=start, timezone=ZoneInfo(timezone), jitter=spread or None
    )
    # Rounding (not flooring) keeps a firing that is a little early or late, or jittered, in
    # its own slot.
    return Schedule(
        trigger,
        lambda moment: f"i{int(seconds)}:{round(moment.timestamp() / seconds)}",
        f"every {timedelta(seconds=seconds)}",
    )


def parse_schedule(text: str, timezone: str, *, key: str) -> Schedule:
    match = _INTERVAL.match(text.strip())
    if match:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds < 60:
            raise ConfigError(f"{key}: an interval under a minute is impolite: {text!r}")
        return interval(seconds, timezone)
    if text.startswith("cron:"):
        expression = text.removeprefix("cron:").strip()
        try:
            trigger = CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))
        except ValueError as exc:
            raise ConfigError(f"{key}: invalid cron line {expression!r}: {exc}") from None
        zone = ZoneInfo(timezone)
        return Schedule(
            trigger,
            lambda moment: "c:" + moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            f"cron {expression}",
        )
    raise ConfigError(
        f"{key}: expected 'interval:<n><s|m|h|d>' or 'cron:<crontab line>', got {text!r}"
    )


def daily(at: str, timezone: str) -> Schedule:
    hour, minute = (int(part) for part in at.split(":"))
    zone = ZoneInfo(timezone)
    return Schedule(
        CronTrigger(hour=hour, minute=minute, timezone=zone),
        lambda moment: "d:" + moment.astimezone(zone).strftime("%Y-%m-%d"),
        f"daily at {at}",
    )


def weekly(day: str, at: str, timezone: str) -> Schedule:
    hour, minute = (int(part) for part in at.split(":"))
    zone = ZoneInfo(timezone)

    def slot(moment: datetime) -> str:
        year, week, _ = moment.astimezone(zone).isocalendar()
        return f"w:{year}-W{week:02d}"

    return Schedule(
        CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=zone),
        slot,
        f"weekly on {day} at {at}",
    )
