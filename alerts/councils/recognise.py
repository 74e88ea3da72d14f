"""Find the councils named in a text, and classify an ombudsman decision's organisation.

One regular expression covers every council name in the register. It is built from a trie of
canonical names (see ``names``), so the engine fails fast at each word and runs at several MB/s
whatever the size of the register. A match has three parts:

    [prefix] NAME [suffix]        "the Borough Council of" King's Lynn and West Norfolk
                                  Norfolk "County Council"
                                  "London Borough of" Southwark

Precision on bare place names (the documented choice): "Norfolk" alone is a county, a railway,
a constabulary and a hospital, so a place name with no council word around it is NOT reported
by default. With ``include_places=True`` it is reported with confidence 0.3 and
``place_only=True``, except when an organisation word follows it ("Norfolk Constabulary",
"Norfolk and Norwich University Hospital"). An all-lower-case name before the bare word
"council" ("reading council papers") is treated the same way. Official names and aliases that
carry a council word are always confident (1.0); place name plus council word 0.9-0.95.

The longest match wins: "Borough Council of King's Lynn and West Norfolk" is one mention, not
also Norfolk County Council.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .names import TOKEN_SEPARATOR, canonical, token_regex
from .register import COUNTY, DISTRICT, Register

ORG_CONFIDENCE = 1.0
AFFIX_CONFIDENCE = 0.95
GENERIC_COUNCIL_CONFIDENCE = 0.9
PLACE_CONFIDENCE = 0.3

# Words before a place name that make it a council ("the Borough Council of X").
_STRONG_PREFIXES = (
    "borough council of",
    "district council of",
    "county council of",
    "city council of",
    "council of the borough of",
    "council of the city of",
    "council of the county of",
    "london borough of",
    "royal borough of",
    "metropolitan borough of",
    "county borough of",
    "borough of",
)
# Words before a place name that name the place more often than the council.
_WEAK_PREFIXES = ("city of", "county of", "city and county of")
_SUFFIXES = (
    "council",
    "county council",
    "borough council",
    "district council",
    "city council",
    "metropolitan borough council",
    "metropolitan district council",
    "county borough council",
    "london borough council",
    "city and district council",
    "unitary council",
    "unitary authority",
)
# Abbreviations are only read in capitals: "Wigan MBC", not "cc" in a mail header.
_ABBREVIATIONS = ("MBC", "LBC", "CBC", "CC", "BC", "DC")
# Words that show the thing named after a place is not its council.
_NOT_COUNCIL = re.compile(
    r"\b(?:constabulary|police|fire|rescue|hospitals?|university|college|school|academy|"
    r"nhs|trust|southern|railway|line|fc|football|cricket|rugby|club|chamber|wildlife|"
    r"healthcare|health|ambulance|icb|ccg|partnership|probation|courts?|coroners?|"
    r"afc|newspapers?|news|times|echo|gazette|live|chronicle|herald|post|mail|press|radio|"
    r"diocese|cathedral|regiment|airport|port|water|broads|coast|mind|carers)\b",
    re.IGNORECASE,
)
_NOT_COUNCIL_WINDOW = re.compile(r"[^.;:()\[\]\n]{0,60}")
_ORG_WORDS = frozenset(
    {"council", "corporation", "comhairle", "cyngor", "authority", "borough", "county borough"}
)
_AFFIX_WORDS = ("county", "borough", "district", "city", "metropolitan", "london", "royal")


@dataclass(frozen=True, slots=True)
class Mention:
    council_id: str
    name: str
    matched_text: str
    start: int
    end: int
    confidence: float
    place_only: bool = False


OrgKind = Literal["council", "care provider", "nhs body", "other"]


@dataclass(frozen=True, slots=True)
class OrgMatch:
    kind: OrgKind
    council_id: str | None = None


def find_councils(
    text: str, register: Register | None = None, *, include_places: bool = False
) -> list[Mention]:
    """Every council named in ``text``, in order of position.

    ``include_places`` also reports bare place names, flagged ``place_only`` with confidence
    0.3 (see the module docstring).
    """
    return _recogniser(register or Register.builtin()).find(text, include_places=include_places)


class Recogniser:
    """The compiled pattern and name index for one register."""

    def __init__(self, register: Register) -> None:
        self.register = register
        # canonical name -> [(council id, is an organisation name)]
        self._names: dict[str, list[tuple[str, bool]]] = {}
        for council in register:
            for i, name in enumerate(council.names):
                key = canonical(name)
                if not key:
                    continue
                is_org = i == 0 or bool(_ORG_WORDS & set(key.split())) or "borough of" in key
                entry = self._names.setdefault(key, [])
                if all(cid != council.id for cid, _ in entry):
                    entry.append((council.id, is_org))
        space = r"[\s\-]+"
        prefixes = _trie_regex([*_STRONG_PREFIXES, *_WEAK_PREFIXES])
        suffixes = _trie_regex(_SUFFIXES)
        abbreviations = "|".join(_ABBREVIATIONS)
        self._pattern = re.compile(
            rf"(?<![\w&])(?:(?P<pre>{prefixes}){space})?"
            rf"(?P<name>{_trie_regex(self._names)})"
            rf"(?:{space}(?P<suf>{suffixes}|(?-i:{abbreviations})))?(?![\w&])",
            re.IGNORECASE,
        )

    def find(self, text: str, *, include_places: bool = False) -> list[Mention]:
        mentions = []
        for match in self._pattern.finditer(text):
            mention = self._resolve(match, text)
            if mention is not None and (include_places or not mention.place_only):
                mentions.append(mention)
        return mentions

    def _resolve(self, match: re.Match[str], text: str) -> Mention | None:
        pre = canonical(match["pre"] or "")
        suf = (match["suf"] or "").casefold()
        suf_key = canonical(suf)
        name_key = canonical(match["name"])
        start = match.start()
        # "City of Edinburgh Council" is itself a name: read the affixes as part of it.
        for key, rest_pre, rest_suf in (
            (f"{pre} {name_key} {suf_key}", "", ""),
            (f"{pre} {name_key}", "", suf_key),
            (f"{name_key} {suf_key}", pre, ""),
        ):
            if key.strip() != name_key and key.strip() in self._names:
                name_key, pre, suf_key = key.strip(), rest_pre, rest_suf
                suf = suf if suf_key else ""
                break
        if pre in _WEAK_PREFIXES and not suf:
            start = match.start("name")
        candidates = self._names[name_key]
        affixes = f"{pre} {suf_key}"
        council_id, is_org = max(candidates, key=lambda c: self._fit(c, affixes))
        if is_org:
            confidence, place_only = ORG_CONFIDENCE, False
        elif (suf and suf_key != "council") or (pre and pre not in _WEAK_PREFIXES):
            confidence, place_only = AFFIX_CONFIDENCE, False
        elif suf_key == "council" and not match["name"].islower():
            confidence, place_only = GENERIC_COUNCIL_CONFIDENCE, False
        else:
            following = _NOT_COUNCIL_WINDOW.match(text, match.end("name"))
            if following and _NOT_COUNCIL.search(following[0]):
                return None
            confidence, place_only = PLACE_CONFIDENCE, True
        if place_only:
            start, end = match.start("name"), match.end("name")
        else:
            end = match.end()
        name = self.register.get(council_id).name
        return Mention(council_id, name, text[start:end], start, end, confidence, place_only)

    def _fit(self, candidate: tuple[str, bool], affixes: str) -> tuple[int, int, int, str]:
        """How well a council sharing a place name fits the words around the match."""
        council_id, is_org = candidate
        council = self.register.get(council_id)
        official = canonical(council.name)
        words = [w for w in _AFFIX_WORDS if f" {w} " in f" {affixes} "]
        fit = sum(1 for w in words if w in official.split())
        if "county" in words and council.type in (COUNTY, "unitary"):
            fit += 1
        if "district" in words and council.type == DISTRICT:
            fit += 1
        return (int(is_org), fit, int(council.current), council_id)


_RECOGNISERS: weakref.WeakKeyDictionary[Register, Recogniser] = weakref.WeakKeyDictionary()


def _recogniser(register: Register) -> Recogniser:
    recogniser = _RECOGNISERS.get(register)
    if recogniser is None:
        recogniser = _RECOGNISERS[register] = Recogniser(register)
    return recogniser


def _units(key: str) -> list[str]:
    """A canonical name as trie units: whole special tokens, single characters, separators."""
    units: list[str] = []
    for i, token in enumerate(key.split(" ")):
        if i:
            units.append(" ")
        if token_regex(token) != re.escape(token):
            units.append(token)
        else:
            units.extend(token)
    return units


def _trie_regex(keys: Iterable[str]) -> str:
    """One alternation over all keys, factored by common prefix, longest continuation first."""
    trie: dict[str, dict[str, Any]] = {}
    for key in keys:
        node = trie
        for unit in _units(key):
            node = node.setdefault(unit, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict[str, Any]) -> str:
    terminal = "" in node
    branches = [_unit_regex(unit) + _emit(child) for unit, child in node.items() if unit != ""]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if terminal:
        return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
    return body


def _unit_regex(unit: str) -> str:
    if unit == " ":
        return TOKEN_SEPARATOR
    if len(unit) > 1:
        return token_regex(unit)
    return re.escape(unit)


def classify_organisation(name: str, register: Register | None = None) -> OrgMatch:
    """Class an ombudsman decision's organisation field.

    Order matters: an exact council name wins; then NHS wording ("Norfolk and Suffolk NHS
    Foundation Trust" names a place but is not its council); then any confident council mention;
    then care-provider wording; anything else is "other".
    """
    register = register or Register.builtin()
    text = " ".join(name.split())
    ids = register.ids_for_name(text)
    if ids:
        return OrgMatch("council", ids[0])
    if _NHS.search(text):
        return OrgMatch("nhs body")
    mentions = [m for m in find_councils(text, register) if m.confidence >= 0.9]
    if mentions and not _CARE.search(text):
        return OrgMatch("council", mentions[0].council_id)
    if _CARE.search(text):
        return OrgMatch("care provider")
    return OrgMatch("other")


_NHS = re.compile(
    r"\bNHS\b|\bfoundation trust\b|\bintegrated care (?:board|system)\b|\bICB\b|"
    r"\bclinical commissioning group\b|\bCCG\b|\bhealth board\b|\bhospitals? trust\b|"
    r"\bhealth and care trust\b|\bpartnership trust\b|\bhealthcare trust\b",
    re.IGNORECASE,
)
_CARE = re.compile(
    r"\b(?:limited|ltd|llp|plc|cic|care|healthcare|homes?|nursing|residential|domiciliary|"
    r"supported living|home ?care|carers?|lodge|manor|house|court)\b",
    re.IGNORECASE,
)
