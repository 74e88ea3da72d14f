"""Words for numbers, dates and source health, shared by the text and HTML templates.

All times are shown in Europe/London and measured from the digest's own ``generated_at``, never
from the clock, so the same digest always renders the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from alerts.digest.model import SourceHealth

LONDON = ZoneInfo("Europe/London")


def plural(count: int, noun: str) -> str:
    """``plural(1, "decision")`` -> "1 decision"; ``plural(2, "story")`` -> "2 stories"."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"


def join_names(names: list[str]) -> str:
    """Join names in English: "A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def long_date(day: date) -> str:
    """Format as "4 March 2025" (no leading zero, portable unlike %-d)."""
    return f"{day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    """Format as "4 Mar 2025"."""
    return f"{day.day} {day:%b %Y}"


def days_ago(then: date, today: date) -> str:
    days = (today - then).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    return f"on {short_date(then)}"


def clock_time(moment: datetime, now: datetime) -> str:
    """Show "09:12" today, "Mon 09:12" within the week, "3 Mar 09:12" before that."""
    local, local_now = moment.astimezone(LONDON), now.astimezone(LONDON)
    days = (local_now.date() - local.date()).days
    if days == 0:
        return f"{local:%H:%M}"
    if 0 < days < 7:
        return f"{local:%a %H:%M}"
    return f"{local.day} {local:%b %H:%M}"


def since_day(moment: datetime, now: datetime) -> str:
    """Say when a failure started: "today", "Mon", or "3 Mar"."""
    local, local_now = moment.astimezone(LONDON), now.astimezone(LONDON)
    days = (local_now.date() - local.date()).days
    if days <= 0:
        return "today"
    if days < 7:
        return f"{local:%a}"
    return f"{local.day} {local:%b}"


def health_line(source: SourceHealth, now: datetime) -> str:
    """One footer line, e.g. "LGSCO: newest decision 2 days ago; last fetched 09:12"."""
    today = now.astimezone(LONDON).date()
    parts: list[str] = []
    if source.newest_item_at is not None:
        newest = source.newest_item_at.astimezone(LONDON).date()
        parts.append(f"newest {source.noun} {days_ago(newest, today)}")
    else:
        parts.append(f"no {source.noun} yet")
    if source.last_success_at is not None:
        parts.append(f"last fetched {clock_time(source.last_success_at, now)}")
    else:
        parts.append("never fetched successfully")
    if source.failing:
        since = f" since {since_day(source.failing_since, now)}" if source.failing_since else ""
        parts.append(f"failing{since}")
    return f"{source.name}: {'; '.join(parts)}"
