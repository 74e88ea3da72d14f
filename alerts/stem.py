"""Words and stems: the tokeniser and English stemmer shared by queries and the matcher.

A query and a document must cut text into the same words, or a query could never match
what it names, so both go through :func:`tokenize` and :func:`stem`.

Tokens are runs of Unicode letters and digits, lower-cased (``casefold``). Apostrophes
inside a word are kept together with it and then dropped: a possessive ``'s`` goes
(``council's`` -> ``council``), other apostrophes vanish (``don't`` -> ``dont``), so
straight and curly apostrophes behave alike.

The stemmer is Snowball's English (Porter2) algorithm, from PyStemmer: stemming, not
lemmatising, so ``payments`` -> ``payment`` but ``paid`` stays ``paid``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

import Stemmer

__all__ = ["Token", "stem", "stem_words", "tokenize", "word_spans"]

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


def word_spans(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """The character spans of words ``start`` to ``stop - 1`` of ``text``: those of
    ``tokenize(text)[start:stop]``, without a Token made for every word of the text (a
    snippet wants its thirty words' spans, not a whole story's)."""
    return [m.span() for m in islice(_WORD.finditer(text), start, stop)]


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


# --- stemming ------------------------------------------------------------------------------

# PyStemmer (the Snowball project's C stemmers) rather than our own Porter2: 3x faster per
# word, and on 546,000 words (bench/stemmer.py) it differs from the Porter2 we had written
# only where Snowball 3 revised the English algorithm ("added" -> "add", not "ad"). Its
# stemmer objects are not thread-safe, so each thread gets its own.
_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    found: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if found is None:
        found = _local.stemmer = Stemmer.Stemmer("english")
    return found


def stem_words(words: list[str]) -> list[str]:
    """:func:`stem` of each word, in order, the stemmer called once for the whole list (for
    many words not seen before: one C call instead of a call and a cache entry per word)."""
    stemmed: list[str] = _stemmer().stemWords(words)
    return [s if len(w) > 2 and w.isalpha() else w for w, s in zip(words, stemmed, strict=True)]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The Snowball English (Porter2) stem of a normalised (lower-case, apostrophe-free)
    word. Words holding digits (references, postcodes, "2fa") are kept as they are."""
    if len(word) <= 2 or not word.isalpha():
        return word
    stemmed: str = _stemmer().stemWord(word)
    return stemmed
