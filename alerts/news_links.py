"""Which ombudsman decision a news story reports, if any.

A local paper's "council told to apologise and pay £950" story and the decision it reports are
two documents; a reader wants them as one. Linking is a precision-first judgement on the facts
both sides state, never on shared vocabulary alone (every such story shares "ombudsman",
"complaint", "apologise" with every decision about its council):

- gates (all must hold): a council in common (the composition root passes each side's councils
  already expanded to successors), the story names an ombudsman, and the story was published on
  or after the decision date and within :data:`MAX_LAG_DAYS` of it;
- a reference the story quotes settles it: the same reference links outright, any other
  reference rules the decision out;
- otherwise evidence adds up: the sums of money the decision ordered and the story reports,
  the complainant's label ("Mr X", "Mrs B"), the service area, how soon the story followed;
  contradictions subtract (the story's complainant is another person, or every sum it
  reports is absent from a decision that ordered payments);
- a link needs :data:`THRESHOLD`, and when two decisions score within :data:`AMBIGUITY_MARGIN`
  of each other neither is chosen: a wrong "reports decision" line is worse than none.

Everything here is pure: facts in, :class:`Link` out, so the labelled set in the tests and
``bench/news_links.py`` measure exactly what the service runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "AMBIGUITY_MARGIN",
    "MAX_LAG_DAYS",
    "THRESHOLD",
    "DecisionFacts",
    "Link",
    "StoryFacts",
    "best_link",
    "score",
    "story_facts",
]

THRESHOLD = 0.6
AMBIGUITY_MARGIN = 0.15
# Papers report a decision within weeks of its publication; a story a year later that matches
# only on a council and a sum is more likely about something else.
MAX_LAG_DAYS = 240

_OMBUDSMAN = re.compile(
    r"\b(?:ombudsman|ombudsmen|lgsco|local government and social care ombudsman|"
    r"housing ombudsman)\b",
    re.IGNORECASE,
)
# Every name _OMBUDSMAN matches holds one of these, so a store may keep back the stories that
# hold none before their text is read (db.links.stories_near); keep the two in step.
OMBUDSMAN_WORDS = ("ombudsm", "lgsco")
# "23 018 529", "23-018-529", "23/018/529", with an optional joint-case letter.
_REFERENCE = re.compile(r"\b(\d{2})[ /-](\d{3})[ /-](\d{3})([a-z]?)\b")
_AMOUNT = re.compile(r"£\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?(?!\d)(\s?(?:k|m|million)\b)?")
# The ombudsmen anonymise complainants as a title and one capital letter: "Mr Q", "Mrs B".
_LABEL = re.compile(r"\b(Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s([A-Z])\b(?![a-z'’])")
# The ombudsmen's default labels: most decisions call the complainant Mr X or Mrs Y, so those
# letters say little about which decision a story reports; a rarer letter ("Mr Q") says a lot.
_COMMON_LETTERS = frozenset("XYZ")
# A story that says the body must pay or apologise reports an upheld complaint.
_REMEDY = re.compile(r"\b(?:pay|paid|compensat\w*|apologi[sz]\w*|refund\w*)\b", re.IGNORECASE)
_NOT_UPHELD = frozenset({"not upheld", "closed after initial enquiries"})

# Service areas as decisions categorise them and papers write them: a story that says
# "special educational needs" reports an education decision. Words are lower-case stems
# matched at the start of a story's words.
_SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "adult": ("care home", "home care", "adult social care", "carer", "care package",
              "residential care", "dementia", "care provider"),
    "children": ("children's services", "child protection", "foster", "social worker",
                 "children's social care", "early help", "looked after", "daughters", "sons",
                 "his children", "her children"),
    "education": ("special educational needs", "ehc plan", "education, health and care",
                  "school transport", "school place", "exclusion", "tuition"),
    "housing": ("homeless", "housing", "temporary accommodation", "tenant", "damp", "mould",
                "repairs", "disrepair", "landlord"),
    "planning": ("planning", "planning permission", "enforcement", "extension", "neighbour"),
    "environment": ("bin", "bins", "waste", "recycling", "refuse", "noise", "pollution",
                    "pest"),
    "benefits": ("council tax", "housing benefit", "benefit", "bailiff", "arrears"),
    "highways": ("parking", "penalty charge", "pothole", "highway", "blue badge"),
}
# Decision category or subcategory words -> the service area above.
_CATEGORY_AREAS: tuple[tuple[str, str], ...] = (
    ("adult", "adult"),
    ("children", "children"),
    ("education", "education"),
    ("special educational", "education"),
    ("school", "education"),
    ("housing", "housing"),
    ("homeless", "housing"),
    ("planning", "planning"),
    ("environment", "environment"),
    ("refuse", "environment"),
    ("waste", "environment"),
    ("noise", "environment"),
    ("benefit", "benefits"),
    ("tax", "benefits"),
    ("highway", "highways"),
    ("parking", "highways"),
    ("transport", "highways"),
)


@dataclass(frozen=True)
class DecisionFacts:
    """What a decision states that a story could repeat."""

    id: int | str
    reference: str  # "23 018 529"
    councils: frozenset[str]  # the organisation as council ids, expanded to successors
    decided_on: date
    outcome: str | None = None
    category: str = ""  # category and subcategory, as one phrase
    amounts_pence: frozenset[int] = frozenset()  # every payment ordered, and their total
    complainants: frozenset[str] = frozenset()  # "Mr Q"


@dataclass(frozen=True)
class StoryFacts:
    """What a story states, read once per story by :func:`story_facts`."""

    id: int | str
    councils: frozenset[str]  # recognised in the story, expanded to successors
    published: date
    mentions_ombudsman: bool
    references: frozenset[str]
    amounts_pence: frozenset[int]
    complainants: frozenset[str]
    areas: frozenset[str]
    reports_remedy: bool = False


@dataclass(frozen=True)
class Link:
    """A story judged to report a decision, with the score and the reasons for it."""

    story_id: int | str
    decision_id: int | str
    score: float
    reasons: tuple[str, ...]


def story_facts(
    id: int | str, text: str, *, councils: Iterable[str], published: date
) -> StoryFacts:
    """Read the facts a linking decision needs from a story's title and text."""
    references = frozenset(
        f"{m.group(1)} {m.group(2)} {m.group(3)}{m.group(4)}" for m in _REFERENCE.finditer(text)
    )
    return StoryFacts(
        id=id,
        councils=frozenset(councils),
        published=published,
        mentions_ombudsman=_OMBUDSMAN.search(text) is not None,
        references=references,
        amounts_pence=frozenset(_amounts(text)),
        complainants=frozenset(_labels(text)),
        areas=_areas_in(text.lower()),
        reports_remedy=_REMEDY.search(text) is not None,
    )


def decision_area(category: str) -> str | None:
    """The service area of a decision's category phrase ("Children's care services > Other")."""
    lowered = category.lower()
    for needle, area in _CATEGORY_AREAS:
        if needle in lowered:
            return area
    return None


def score(story: StoryFacts, decision: DecisionFacts) -> Link | None:
    """The link between ``story`` and ``decision``, or None when a gate fails.

    The returned link may score below :data:`THRESHOLD`; :func:`best_link` decides.
    """
    if not story.mentions_ombudsman or story.councils.isdisjoint(decision.councils):
        return None
    lag = (story.published - decision.decided_on).days
    if lag < 0 or lag > MAX_LAG_DAYS:
        return None
    reasons = ["same council", "names an ombudsman"]
    if story.references:
        if _bare(decision.reference) in {_bare(r) for r in story.references}:
            return Link(story.id, decision.id, 1.0, (*reasons, f"quotes {decision.reference}"))
        return None
    total = 0.0
    shared = story.amounts_pence & decision.amounts_pence
    if shared:
        # One matching sum is good evidence; two or more (each daughter's £200 and the total)
        # is nearly conclusive.
        total += 0.45 if len(shared) == 1 else 0.6
        reasons.append("amounts " + ", ".join(_pounds(p) for p in sorted(shared)))
    elif story.amounts_pence and decision.amounts_pence:
        total -= 0.4
        reasons.append("different amounts")
    same_people = story.complainants & decision.complainants
    if same_people:
        rare = any(label[-1] not in _COMMON_LETTERS for label in same_people)
        total += 0.4 if rare else 0.15
        reasons.append("complainant " + ", ".join(sorted(same_people)))
    elif story.complainants and decision.complainants:
        total -= 0.5
        reasons.append("another complainant")
    if decision.outcome in _NOT_UPHELD and story.reports_remedy and not decision.amounts_pence:
        # "told to apologise and pay" cannot report a complaint the ombudsman did not uphold
        total -= 0.3
        reasons.append("story reports a remedy, decision has none")
    area = decision_area(decision.category)
    if area is not None and area in story.areas:
        total += 0.2
        reasons.append(f"service area {area}")
    elif area is not None and story.areas:
        total -= 0.1
    if lag <= 45:
        total += 0.1
        reasons.append(f"published {lag} days after the decision")
    return Link(story.id, decision.id, round(total, 3), tuple(reasons))


def best_link(story: StoryFacts, decisions: Sequence[DecisionFacts]) -> Link | None:
    """The one decision ``story`` reports among ``decisions``, or None (ambiguous or too weak)."""
    scored = sorted(
        (link for link in (score(story, d) for d in decisions) if link is not None),
        key=lambda link: -link.score,
    )
    if not scored or scored[0].score < THRESHOLD:
        return None
    if len(scored) > 1 and scored[0].score - scored[1].score < AMBIGUITY_MARGIN:
        return None
    return scored[0]


def _amounts(text: str) -> set[int]:
    found: set[int] = set()
    for m in _AMOUNT.finditer(text):
        pounds = int(m.group(1).replace(",", ""))
        pence = int(m.group(2) or 0)
        scale = (m.group(3) or "").strip().lower()
        if scale == "k":
            pounds *= 1000
        elif scale in {"m", "million"}:
            pounds *= 1_000_000
        found.add(pounds * 100 + pence)
    return found


def _labels(text: str) -> set[str]:
    return {f"{m.group(1)} {m.group(2)}" for m in _LABEL.finditer(text)}


def _areas_in(lowered: str) -> frozenset[str]:
    return frozenset(
        area for area, phrases in _SERVICE_WORDS.items() if any(p in lowered for p in phrases)
    )


def _bare(reference: str) -> str:
    return re.sub(r"[^0-9a-z]", "", reference.lower())


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}" if pence % 100 == 0 else f"£{pence / 100:,.2f}"
