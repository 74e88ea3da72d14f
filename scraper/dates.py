"""Month names as UK sources print them, shared by every source's date parsing."""

from __future__ import annotations

__all__ = ["MONTHS"]

_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Lower-case full names and three-letter forms, plus the "Sept" some pages print -> 1..12.
MONTHS: dict[str, int] = {
    name: number for number, full in enumerate(_NAMES, start=1) for name in (full, full[:3])
} | {"sept": 9}
