"""A phrase read from the raw text answers as the tokeniser's words would (alerts.phrase_scan)."""

from __future__ import annotations

import random
import re
import sys

import pytest

from alerts.phrase_scan import _FOLD_CHANGES_RUNS, PhraseScan
from alerts.stem import words

WORD = re.compile(r"[^\W_]")


def tokenised(phrase: list[str], text: str) -> bool:
    """The matcher's answer: the phrase's words consecutive in the text's words."""
    return f" {' '.join(phrase)} " in f" {' '.join(words(text))} "


def test_the_characters_whose_folding_moves_word_ends_are_this_pythons() -> None:
    changes, alnum_differs = [], []
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        letter = WORD.fullmatch(char) is not None
        if char.isalnum() != letter:
            alnum_differs.append(point)  # the scan reads isalnum() as [^\W_]
        folded = [WORD.fullmatch(c) is not None for c in char.casefold()]
        if (letter and not all(folded)) or (not letter and any(folded)):
            changes.append(point)
    listed = [p for p in range(sys.maxunicode + 1) if _FOLD_CHANGES_RUNS.fullmatch(chr(p))]
    assert changes == listed
    assert alnum_differs == []


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        (["care", "plan"], "The Care Plan was late", True),
        (["care", "plan"], "care, plan", True),
        (["care", "plan"], "care_plan", True),  # "_" separates words
        (["care", "plan"], "scare plan", False),
        (["care", "plan"], "care plans", False),
        (["care", "plan"], "care\n\nplan", True),
        (["care", "plan"], "the carer's plan", False),
        (["carer", "plan"], "the carer's plan", True),  # a possessive goes
        (["carer", "plan"], "the CARER’S plan", True),
        (["carers", "plan"], "the carer's plan", False),
        (["dont", "care"], "I don't care", True),  # a joining apostrophe goes
        (["don", "care"], "I don't care", False),
        (["care", "plan"], "care'' plan", True),  # an apostrophe not between letters splits
        (["care", "plan"], "care''plan", True),
        (["careplan"], "care'plan", True),
        (["a", "b"], "a's's b", False),  # only the last 's goes: "as"
        (["as", "b"], "a's's b", True),
        (["strasse", "plan"], "Straße plan", True),  # case folding, not lower-casing
        (["caf\u00e9", "plan"], "CAF\u00c9 plan", True),
        (["care", "plan"], "1care plan", False),
        (["2026", "plan"], "in 2026: plan", True),
    ],
)
def test_examples(phrase: list[str], text: str, found: bool) -> None:
    assert tokenised(phrase, text) is found  # the examples say what the tokeniser does
    assert PhraseScan(phrase).occurs(text) is found


def test_no_answer_where_folding_changes_a_word_end() -> None:
    assert PhraseScan(["care", "plan"]).occurs("care plan \u0130stanbul") is None
    assert PhraseScan(["care", "plan"]).occurs("care\u0345plan") is None


def test_only_plain_words_make_a_scan() -> None:
    assert not PhraseScan.usable([])
    assert not PhraseScan.usable(["care", "i\u0307"])  # a folded İ: not a letter run
    with pytest.raises(ValueError):
        PhraseScan(["care plan"])


PIECES = [*"aAbsSſ'’_-., \n0é", "ß", "ss", "  ", "ﬁ", "K", "\u0130", "\u0345", "\u0307"]


def test_agrees_with_the_tokeniser_on_texts_built_to_hit_every_rule() -> None:
    rng = random.Random(17)
    checked = found = 0
    for _ in range(30_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 24)))
        text_words = words(text)
        phrases = [[rng.choice(("a", "as", "b", "s", "ab", "ss")) for _ in range(2)]]
        if len(text_words) >= 2:
            start = rng.randrange(len(text_words) - 1)
            phrases.append(text_words[start : start + rng.choice((2, 3))])
        for phrase in phrases:
            if not PhraseScan.usable(phrase):
                continue
            answer = PhraseScan(phrase).occurs(text)
            if answer is None:
                assert _FOLD_CHANGES_RUNS.search(text)
                continue
            assert answer is tokenised(phrase, text), (phrase, text)
            checked += 1
            found += answer
    assert checked > 15_000 and found > 5_000  # both answers well tried
