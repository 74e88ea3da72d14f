"""The one integer parser for text from outside: ASCII digits only.

``str.isdigit()`` accepts "²" and "٣" and ``int()`` then refuses the first and reads the
second, so ``/documents?page=²`` was a 500. This lives beside the exception tree because it
is the one package every layer may import (scraper reads Retry-After, the web reads ids).
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "MAX_ID", "ascii_int"]

# Enough for any id, port, page or delay we use; keeps int() from ever seeing 4,300 digits.
MAX_DIGITS = 18
# Database ids are 32-bit on PostgreSQL: a larger one cannot exist, and comparing fails.
MAX_ID = 2**31 - 1
_DIGITS = frozenset("0123456789")


def ascii_int(text: str | None, *, minimum: int = 0, maximum: int | None = None) -> int | None:
    """``text`` as an int if it is 1 to :data:`MAX_DIGITS` ASCII digits within the bounds.

    No sign, no spaces, no underscores, no other scripts' digits: anything else is None,
    and the caller says what was wrong in its own words.
    """
    if not text or len(text) > MAX_DIGITS or not _DIGITS.issuperset(text):
        return None
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        return None
    return value
