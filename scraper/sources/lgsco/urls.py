"""LGSCO URLs: the canonical form of a decision page and the search listing address."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

LGSCO_HOST = "www.lgo.org.uk"
# The bare host serves the same pages; the www form is the one identity we store.
_HOST_ALIASES = frozenset({"lgo.org.uk", "www.lgo.org.uk"})
LISTING_PATH = "/Decisions/SearchResults"
_DECISION_SLUG = re.compile(r"/(?:\d{2}-\d{3}-\d{3}[a-z]?|\d{2}-[a-z]-\d{4,6})/?$")


def canonical_url(url: str) -> str:
    """One identity per decision page.

    The query string (``?chapter=0``, ``?displaypref=1``) and fragment only select a view of the
    same page, so they go. The LGSCO host becomes https://www.lgo.org.uk; any other host (a
    mirror, the test web) is kept as it is, lower-cased.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    if host in _HOST_ALIASES:
        return urlunsplit(("https", LGSCO_HOST, path, "", ""))
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower() or "https", netloc, path, "", ""))


def listing_url(base_url: str, *, date_from: date, date_to: date, page: int) -> str:
    """The search listing of decisions dated ``date_from``..``date_to``, newest first.

    Dates and page are always explicit: the site has served its page shell without results
    when they were left out.
    """
    if page < 1:
        raise ValueError(f"listing pages start at 1, not {page}")
    if date_from > date_to:
        raise ValueError(f"date_from {date_from} is after date_to {date_to}")
    query = urlencode(
        {
            "fd": date_from.isoformat(),
            "td": date_to.isoformat(),
            "page": page,
            "sortOrder": "descending",
        }
    )
    return f"{base_url.rstrip('/')}{LISTING_PATH}?{query}"


def kind_from_url(url: str) -> Literal["decision", "listing", "unknown"]:
    """What an LGSCO URL serves: a decision page, the search listing, or neither."""
    path = urlsplit(url).path.lower()
    if path.rstrip("/") == LISTING_PATH.lower() or path.startswith("/decisionsnew/"):
        return "listing"
    if path.startswith("/decisions/") and _DECISION_SLUG.search(path):
        return "decision"
    return "unknown"
