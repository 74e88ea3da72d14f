"""Whether a term (a phrase, a word, a prefix) occurs in a text, read from the raw text
without tokenising it.

A search confirms each candidate of a phrase (the keys index has no positions) by the
matcher's own check, which tokenises the whole document: most of a phrase search's time (on
10,000 documents, ~0.3 ms per candidate, 5,000 candidates). The same answer can be read from
the text with one pattern search, because :func:`alerts.stem.tokenize`'s words are the
maximal runs of letters and digits (``[^\\W_]``) once apostrophes are dealt with, case-folded:

1. a possessive ``'s`` ending a word goes (the apostrophe joins letters, the ``s`` ends the
   word: not followed by a letter, nor by an apostrophe and a letter);
2. an apostrophe between two letters or digits joins them, so it goes;
3. any other apostrophe separates words, so it becomes a space;
4. the text is case-folded (per character, so folding the text folds each word).

Then the phrase ``a b`` is in the words, consecutively, exactly when the folded text holds
``a``, separators, ``b`` with no letter or digit just before ``a`` or just after ``b`` (a
word matched by stem or prefix: a whole run there, stemmed or compared once found).

Step 4 keeps the runs as they are except for a few characters whose folding turns a letter
into a non-letter (``İ`` is ``i`` and a combining dot) or the reverse (U+0345): a text
holding one gets no answer (None) and the caller tokenises it. tests/test_phrase_scan.py
checks the list against the running Python's Unicode tables and the answers against the
tokeniser's on texts built to hit every rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from alerts.stem import stem

__all__ = ["Mode", "PhraseScan"]

# Letters and digits whose case folding holds a character that is not one, and the one
# non-letter whose folding is a letter (Python 3.11, Unicode 14; the test recomputes them).
_FOLD_CHANGES_RUNS = re.compile(
    "[\u0130\u01f0\u0390\u03b0\u0345\u1e96-\u1e99\u1f50\u1f52\u1f54\u1f56\u1fb6\u1fb7\u1fc6"
    "\u1fc7\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2-\u1fe4\u1fe6\u1fe7\u1ff6\u1ff7]"
)
# The characters that case-fold to "s": what a possessive's s may be written as.
_POSSESSIVE = re.compile(r"(?<=[^\W_])['’][sSſ](?!['’]?[^\W_])")
_JOINING = re.compile(r"(?<=[^\W_])['’](?=[^\W_])")
_APOSTROPHE = re.compile(r"['’]")
_WORD = re.compile(r"[^\W_]+")
# The most letters at a stem's end that differ from its word's: Porter2 rewrites only a
# word's end, and adds at most two letters of its own there ("dying" is "die", "bying"
# "bie": the words share only the "d", the "b"). Elsewhere one ("caring" is "care",
# "happy" "happi"). tests/test_phrase_scan.py checks it on the suffixes each step rewrites.
STEM_CHANGES = 2


# What a word of the scanned term is compared with: "exact" its text, "prefix" the text it
# starts with, "stem" its stem (alerts.query.Atom's modes and norms).
Mode = Literal["exact", "stem", "prefix"]


class PhraseScan:
    """Looks for one term (a word, a prefix, a phrase of them) given as its atoms' (mode,
    value): the value a word is compared with (a stem for "stem"), letters and digits only.

    A stem is looked for as the words starting with all but its last STEM_CHANGES letters
    (at least its first), each found word then stemmed to compare. By its first letter
    alone, "care-plan" stemmed every pair of words starting "c" and "p": 3x slower a search.
    """

    def __init__(self, atoms: Sequence[tuple[Mode, str]]) -> None:
        if not self.usable(atoms):
            raise ValueError(f"not a term of plain words: {atoms!r}")
        self.atoms = tuple(atoms)
        parts = []
        for mode, value in atoms:
            if mode == "exact":
                parts.append(f"({re.escape(value)})")
            else:  # the word's whole run; a stem checked once found
                lead = value if mode == "prefix" else value[: max(1, len(value) - STEM_CHANGES)]
                parts.append(f"({re.escape(lead)}[^\\W_]*)")
        # No look-behind for the letter before the first word: a pattern that does not
        # start with a literal is tried at every position (330 us a document, not 23).
        self._pattern = re.compile(r"[\W_]+".join(parts) + r"(?![^\W_])")
        self._stems = tuple((i + 1, v) for i, (mode, v) in enumerate(atoms) if mode == "stem")

    @staticmethod
    def usable(atoms: Sequence[tuple[str, str]]) -> bool:
        return bool(atoms) and all(
            mode in ("exact", "stem", "prefix") and _WORD.fullmatch(value) for mode, value in atoms
        )

    def occurs(self, text: str) -> bool | None:
        """True if the term is in ``tokenize(text)``'s words (its words consecutive); None
        when the text holds a character whose case folding changes where words end."""
        if not text.isascii() and _FOLD_CHANGES_RUNS.search(text):
            return None
        if "'" in text or "’" in text:
            text = _APOSTROPHE.sub(" ", _JOINING.sub("", _POSSESSIVE.sub("", text)))
        folded = text.casefold()
        search, stems = self._pattern.search, self._stems
        found = search(folded)
        while found is not None:
            start = found.start()
            if (start == 0 or not folded[start - 1].isalnum()) and all(  # isalnum: [^\W_]
                stem(found.group(i)) == value for i, value in stems
            ):
                return True
            # the next word start: none before the end of this word (its whole run)
            found = search(folded, found.end(1))
        return False
