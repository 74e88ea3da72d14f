"""A term (phrase, word, prefix) read from the raw text answers as the matcher would."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from alerts.phrase_scan import _FOLD_CHANGES_RUNS, STEM_CHANGES, PhraseScan
from alerts.query import parse_query
from alerts.stem import stem_words, words

WORD = re.compile(r"[^\W_]+")
LETTER = re.compile(r"[^\W_]")
ROOT = Path(__file__).resolve().parents[1]


def tokenised(phrase: list[str], text: str) -> bool:
    """The matcher's answer: the phrase's words consecutive in the text's words."""
    return f" {' '.join(phrase)} " in f" {' '.join(words(text))} "


def exact(phrase: list[str]) -> PhraseScan:
    return PhraseScan([("exact", word) for word in phrase])


def test_the_characters_whose_folding_moves_word_ends_are_this_pythons() -> None:
    changes, alnum_differs = [], []
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        letter = LETTER.fullmatch(char) is not None
        if char.isalnum() != letter:
            alnum_differs.append(point)  # the scan reads isalnum() as [^\W_]
        folded = [LETTER.fullmatch(c) is not None for c in char.casefold()]
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
    assert exact(phrase).occurs(text) is found


def test_no_answer_where_folding_changes_a_word_end() -> None:
    assert exact(["care", "plan"]).occurs("care plan \u0130stanbul") is None
    assert exact(["care", "plan"]).occurs("care\u0345plan") is None


def test_only_plain_words_make_a_scan() -> None:
    assert not PhraseScan.usable([])
    assert not PhraseScan.usable([("exact", "care"), ("exact", "i\u0307")])  # a folded İ
    assert not PhraseScan.usable([("stem", "")])
    with pytest.raises(ValueError):
        exact(["care plan"])


def _vocabulary() -> list[str]:
    """Words to try the stemmer on: the Porter2 exceptions, the suffixes each step rewrites
    on stems of each shape, this project's documentation, and real news text when
    ../shared is there."""
    special = "skis skies dying lying tying idly gently ugly early only singly news howe "
    special += "atlas cosmos bias andes inning innings outing outings canning cannings "
    special += "herring herrings earring earrings proceed exceed succeed generously "
    special += "bying byings eying flying crying spying"
    suffixes = "sses ied ies s eed eedly ed edly ing ingly y ational tional enci anci abli "
    suffixes += "entli izer ization ation ator alism aliti alli fulness ousli ousness iveness "
    suffixes += "iviti biliti bli ogi fulli lessli li alize icate iciti ative ical ness ful "
    suffixes += "al ance ence er ic able ible ant ement ment ent ism ate iti ous ive ize ion e "
    suffixes += "ying yings ility ilities ably ily iness ieing"
    stems = ["car", "plan", "happ", "relat", "possib", "yell", "oper", "x", "ab", "y", "d"]
    stems += ["sens", "mob", "gener", "commun", "arsen", "b", "sk"]
    found = special.split() + [s + x for s in stems for x in suffixes.split()]
    for path in ROOT.glob("*.md"):
        found += words(path.read_text())
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        for path in sorted(corpus.rglob("*")):
            if path.is_file():
                found += words(path.read_text(errors="replace"))
    return sorted({w for w in found if WORD.fullmatch(w)})


def test_a_word_starts_with_its_stem_but_for_the_stems_last_letters() -> None:
    # What looking for a stem by its lead (PhraseScan) rests on: a word that stems to it
    # starts with all of it but its last STEM_CHANGES letters. One letter fewer fails
    # ("dying" is "die").
    plain = _vocabulary()
    assert len(plain) > 1000
    most = 0
    for word, stemmed in zip(plain, stem_words(plain), strict=True):
        assert stemmed and word.startswith(stemmed[: max(1, len(stemmed) - STEM_CHANGES)]), (
            word,
            stemmed,
        )
        pairs = zip(word, stemmed, strict=False)
        shared = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(word), len(stemmed)))
        most = max(most, len(stemmed) - shared)
    assert most == STEM_CHANGES  # no looser than it needs to be


def scan_of(query: str) -> PhraseScan:
    (term,) = parse_query(query).terms()
    return PhraseScan([(a.mode, a.norm) for a in term.atoms])


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("care-plan", "The carer's plans", False),
        ("care-plan", "Caring planned", True),
        ("care-plan", "cares, planning", True),
        ("care-plan", "scaring planning", False),
        ("council-tax", "the councils' taxes", True),
        ("council-ta*", "Council tablets", True),
        ("council-ta*", "Council stab", False),
        ("payments", "a payment", True),
        ("payments", "repayment", False),
        ("adopt*", "Adopters met", True),
        ("adopt*", "unadopted", False),
        ('"care"', "Care's", True),
        ("face-to-face", "faces to facing", True),
        ("dying", "the dying tree", True),  # stemmed to "die": looked for by its "d"
        ("died", "the dying tree", True),
        ("die-back", "dying backs", True),
        ("care-plan", "Cars planned", False),  # "car" is not "care"
        ("happy-ending", "Happy endings", True),
    ],
)
def test_stems_and_prefixes(query: str, text: str, found: bool) -> None:
    assert parse_query(query).matches(text) is found  # what the matcher says
    assert scan_of(query).occurs(text) is found


PIECES = [*"aAbsSſ'’_-., \n0é", "ß", "ss", "  ", "ﬁ", "K", "\u0130", "\u0345", "\u0307"]


def test_agrees_with_the_tokeniser_on_texts_built_to_hit_every_rule() -> None:
    rng = random.Random(17)
    checked = found = 0
    for _ in range(12_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 24)))
        text_words = words(text)
        phrases = [[rng.choice(("a", "as", "b", "s", "ab", "ss")) for _ in range(2)]]
        if len(text_words) >= 2:
            start = rng.randrange(len(text_words) - 1)
            phrases.append(text_words[start : start + rng.choice((2, 3))])
        for phrase in phrases:
            if not PhraseScan.usable([("exact", w) for w in phrase]):
                continue
            answer = exact(phrase).occurs(text)
            if answer is None:
                assert _FOLD_CHANGES_RUNS.search(text)
                continue
            assert answer is tokenised(phrase, text), (phrase, text)
            checked += 1
            found += answer
    assert checked > 6_000 and found > 2_000  # both answers well tried


STEMMED = ["care", "cares", "caring", "cared", "plan", "plans", "planning", "carer", "scare"]
STEMMED += ["dying", "die", "dies", "car", "cars", "ability", "able", "happy", "happier"]


def test_stems_and_prefixes_agree_with_the_matcher_on_built_texts() -> None:
    rng = random.Random(5)
    checked = found = 0
    queries = ["care-plan", "care-pla*", "plan-care", "caring", "ca*", "care", '"care plan"']
    queries += ["die-care", "dying", "ability", "happy-plan"]
    scans = {parse_query(q): scan_of(q) for q in queries}
    for _ in range(5_000):
        pieces = [rng.choice(STEMMED + PIECES[:8]) for _ in range(rng.randrange(1, 8))]
        text = "".join(p + rng.choice((" ", "'s ", ", ", "_", "")) for p in pieces)
        for query, scan in scans.items():
            answer = scan.occurs(text)
            assert answer is query.matches(text), (query, text)
            checked += 1
            found += bool(answer)
    assert found > 5_000 and checked - found > 5_000
