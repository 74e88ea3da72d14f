"""What a valid alert is: the one rule the CLI, the web form and the alert index all apply.

Each used to parse the keywords itself, and they disagreed: the CLI and the form accepted a
council alert whose keywords are only exclusions (``-parking`` in Norfolk) while the index
re-parsed it without that permission and dropped it, so its subscriber never heard anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from alerts.query import Query, parse_query
from cwerrors import AlertsError, QueryError

__all__ = ["check_text", "control_character", "scoped", "valid_alert_query"]

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: none belongs in a
# name or keywords, and each breaks a consumer (NUL: PostgreSQL text; CR/LF: mail headers
# and bodies; most C0: XML 1.0).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def scoped(
    councils: Collection[str] = (),
    counties: Collection[str] = (),
    outcomes: Collection[str] = (),
    categories: Collection[str] = (),
) -> bool:
    """True if the alert is narrowed by something other than its keywords.

    Such an alert may have keywords made only of exclusions (``-parking``): they narrow what
    its councils or filters already select instead of matching almost every document.
    """
    return bool(councils or counties or outcomes or categories)


def valid_alert_query(
    query: str | None,
    *,
    councils: Collection[str] = (),
    counties: Collection[str] = (),
    outcomes: Collection[str] = (),
    categories: Collection[str] = (),
) -> Query | None:
    """The parsed keywords of an alert (None without keywords); QueryError if unusable.

    Every alert that passes can be filed by the matcher: the query limits hold (so its
    check compiles), and a NOT-only query is allowed exactly when the alert is scoped.
    """
    if query is None or not query.strip():
        return None
    if (at := control_character(query)) is not None:
        raise QueryError(
            f"control character {query[at]!r} at position {at}: keywords are plain text",
            position=at,
        )
    return parse_query(query, allow_only_not=scoped(councils, counties, outcomes, categories))


def control_character(value: str) -> int | None:
    """The position of the first control character (NUL, CR, LF, tab...) in ``value``."""
    match = _CONTROL.search(value)
    return match.start() if match else None


def check_text(field: str, value: str) -> str:
    """``value`` unchanged, or AlertsError naming the field and the control character."""
    position = control_character(value)
    if position is not None:
        raise AlertsError(
            f"{field} contains a control character ({value[position]!r} at position "
            f"{position}): use plain text on one line"
        )
    return value
