"""Title normalisation, for matching a Google News item to the publisher's own feed item.

Google News titles end in " - Publisher"; publishers' own titles differ in case, quote style and
punctuation. Both sides go through :func:`normalise_title` and are compared for equality.
"""

from __future__ import annotations

import re
import unicodedata

# A trailing " - Name" / " | Name" that looks like a publication: at most five words, each
# capitalised or a short connective ("Manchester Evening News", "BBC", "The Northern Echo").
_NAME_WORD = r"(?:[A-Z0-9][\w'.&]*|of|the|and|on|&)"
_SUFFIX = re.compile(rf"\s+[-–—|]\s+{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}}\s*$")
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")


def _strip_publisher(title: str, publisher: str | None) -> str:
    if publisher:
        for sep in (" - ", " – ", " — ", " | "):
            suffix = sep + publisher.strip()
            if title.casefold().endswith(suffix.casefold()):
                return title[: -len(suffix)]
        return title
    match = _SUFFIX.search(title)
    return title[: match.start()] if match else title


def normalise_title(title: str, *, publisher: str | None = None) -> str:
    """Lower-case words of ``title`` without publisher suffix, quotes or punctuation.

    With ``publisher`` (a Google News item's source name) only that suffix is removed; without
    it, a trailing segment that looks like a publication name is.
    """
    text = unicodedata.normalize("NFKC", title).strip()
    text = _strip_publisher(text, publisher)
    text = _APOSTROPHES.sub("", text)  # "council's" and "councils" match
    text = text.replace("&", " and ")
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())
