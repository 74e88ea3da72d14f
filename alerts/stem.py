"""Words and stems: the tokeniser and English stemmer shared by queries and the matcher.

A query and a document must cut text into the same words, or a query could never match
what it names, so both go through :func:`tokenize` and :func:`stem`.

Tokens are runs of Unicode letters and digits, lower-cased (``casefold``). Apostrophes
inside a word are kept together with it and then dropped: a possessive ``'s`` goes
(``council's`` -> ``council``), other apostrophes vanish (``don't`` -> ``dont``), so
straight and curly apostrophes behave alike.

The stemmer is Porter2 (the Snowball "english" algorithm), written from its published
description: stemming, not lemmatising, so ``payments`` -> ``payment`` but ``paid`` stays
``paid``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

__all__ = ["Token", "stem", "tokenize"]

# A word: letters/digits, optionally joined by apostrophes (council's, o'brien, don't).
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")  # _WORD on lower-cased ASCII text
_APOSTROPHES = re.compile(r"['’]")
# Bytes of ASCII text for words(): A-Z lower-cased; a-z, 0-9 and ' kept; the rest a space.
_ASCII_FOLD = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c == 39) else 32
    for c in range(256)
)


class Token(NamedTuple):
    """One word of a text: its normalised form and where it stands in the text."""

    text: str
    start: int
    end: int


def normalise_word(word: str) -> str:
    """Lower-case a raw word and drop possessives and apostrophes."""
    word = word.casefold()
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    return _APOSTROPHES.sub("", word)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into normalised word tokens with their character spans."""
    out: list[Token] = []
    for m in _WORD.finditer(text):
        word = m.group().casefold()
        if "'" in word or "’" in word:  # rare: skip the slower path for most words
            word = normalise_word(word)
        out.append(Token(word, m.start(), m.end()))
    return out


def words(text: str) -> list[str]:
    """The normalised words of ``text``, without spans: ``[t.text for t in tokenize(text)]``.

    The fast path for matching. ASCII text (most English text) takes one byte-table pass
    in C: letters lower-cased (``casefold`` is ``lower`` there), digits and apostrophes
    kept, everything else a space; ``split`` then returns the words. The few pieces
    holding an apostrophe go through the word pattern. Other text: one regex pass and
    one ``casefold`` over the whole text (case folding has no context, so folding the
    joined words equals folding each).
    """
    if text.isascii():
        out = text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split()
        if "'" not in text:
            return out
        out = [
            w for piece in out for w in (_ASCII_WORD.findall(piece) if "'" in piece else (piece,))
        ]
    else:
        raw = _WORD.findall(text)
        if not raw:
            return []
        out = "\x00".join(raw).casefold().split("\x00")
    if "'" in text or "’" in text:
        out = [normalise_word(w) if ("'" in w or "’" in w) else w for w in out]
    return out


# --- Porter2 -------------------------------------------------------------------------------

_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDINGS = frozenset("cdeghkmnrt")
_EXCEPTIONS = {
    "skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie",
    "idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli",
    "singly": "singl", "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas",
    "cosmos": "cosmos", "bias": "bias", "andes": "andes",
}  # fmt: skip
_STOP_AFTER_1A = frozenset(
    {"inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"}
)
# Suffix tables, longest first: each step applies only the longest suffix that ends the word.
_STEP2 = (
    ("ization", "ize"), ("ational", "ate"), ("fulness", "ful"), ("ousness", "ous"),
    ("iveness", "ive"), ("tional", "tion"), ("biliti", "ble"), ("lessli", "less"),
    ("entli", "ent"), ("ation", "ate"), ("alism", "al"), ("aliti", "al"), ("ousli", "ous"),
    ("iviti", "ive"), ("fulli", "ful"), ("enci", "ence"), ("anci", "ance"), ("abli", "able"),
    ("izer", "ize"), ("ator", "ate"), ("alli", "al"), ("bli", "ble"), ("ogi", "og"), ("li", ""),
)  # fmt: skip
_STEP3 = (
    ("ational", "ate"), ("tional", "tion"), ("alize", "al"), ("icate", "ic"), ("iciti", "ic"),
    ("ative", ""), ("ical", "ic"), ("ness", ""), ("ful", ""),
)  # fmt: skip
_STEP4 = (
    "ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous",
    "ive", "ize", "ion", "al", "er", "ic",
)  # fmt: skip


def _region_after(word: str, start: int) -> int:
    """Start of the region after the first non-vowel that follows a vowel, from ``start``."""
    for i in range(start + 1, len(word)):
        if word[i] not in _VOWELS and word[i - 1] in _VOWELS:
            return i + 1
    return len(word)


def _ends_short_syllable(word: str) -> bool:
    if len(word) == 2:
        return word[0] in _VOWELS and word[1] not in _VOWELS
    return (
        len(word) >= 3
        and word[-1] not in _VOWELS
        and word[-1] not in "wxY"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    )


def _step1a(w: str) -> str:
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith(("ied", "ies")):
        return w[:-2] if len(w) > 4 else w[:-1]
    if w.endswith(("us", "ss")):
        return w
    if w.endswith("s") and any(c in _VOWELS for c in w[:-2]):
        return w[:-1]
    return w


def _step1b(w: str, r1: int) -> str:
    for suffix in ("eedly", "ingly", "edly", "eed", "ing", "ed"):
        if not w.endswith(suffix):
            continue
        base = w[: -len(suffix)]
        if suffix in ("eed", "eedly"):
            return base + "ee" if len(base) >= r1 else w
        if not any(c in _VOWELS for c in base):
            return w
        if base.endswith(("at", "bl", "iz")):
            return base + "e"
        if base.endswith(_DOUBLES):
            return base[:-1]
        if r1 >= len(base) and _ends_short_syllable(base):
            return base + "e"
        return base
    return w


def _step2(w: str, r1: int) -> str:
    for suffix, repl in _STEP2:
        if w.endswith(suffix):
            base = w[: -len(suffix)]
            if len(base) < r1:
                return w
            if suffix == "ogi" and not base.endswith("l"):
                return w
            if suffix == "li" and (not base or base[-1] not in _LI_ENDINGS):
                return w
            return base + repl
    return w


def _step3(w: str, r1: int, r2: int) -> str:
    for suffix, repl in _STEP3:
        if w.endswith(suffix):
            base = w[: -len(suffix)]
            if len(base) < r1 or (suffix == "ative" and len(base) < r2):
                return w
            return base + repl
    return w


def _step4(w: str, r2: int) -> str:
    for suffix in _STEP4:
        if w.endswith(suffix):
            base = w[: -len(suffix)]
            if len(base) < r2 or (suffix == "ion" and not base.endswith(("s", "t"))):
                return w
            return base
    return w


def _step5(w: str, r1: int, r2: int) -> str:
    if w.endswith("e"):
        base = w[:-1]
        if len(base) >= r2 or (len(base) >= r1 and not _ends_short_syllable(base)):
            return base
    elif w.endswith("ll") and len(w) - 1 >= r2:
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The Porter2 stem of a normalised (lower-case, apostrophe-free) word."""
    if len(word) <= 2 or not word.isalpha():
        return word
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    # Consonant-y marks: a y that starts the word or follows a vowel counts as a consonant.
    chars = list(word)
    if chars[0] == "y":
        chars[0] = "Y"
    for i in range(1, len(chars)):
        if chars[i] == "y" and chars[i - 1] in _VOWELS:
            chars[i] = "Y"
    w = "".join(chars)
    if w.startswith(("gener", "arsen")):
        r1 = 5
    elif w.startswith("commun"):
        r1 = 6
    else:
        r1 = _region_after(w, 0)
    r2 = _region_after(w, r1)
    w = _step1a(w)
    if w in _STOP_AFTER_1A:
        return w
    w = _step1b(w, r1)
    if len(w) > 2 and w[-1] in "yY" and w[-2] not in _VOWELS:
        w = w[:-1] + "i"
    w = _step2(w, r1)
    w = _step3(w, r1, r2)
    w = _step4(w, r2)
    w = _step5(w, r1, r2)
    return w.replace("Y", "y")
