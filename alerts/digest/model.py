"""What a digest holds: plain frozen data, built by the caller, rendered by ``render``.

Groups keep all their items; the renderer shows the first few and an "and N more" link, so the
subject line can count everything that was found and not only what fits in the email.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Literal


@dataclass(frozen=True, slots=True)
class Link:
    """A named link, e.g. a news title and the URL of its copy of the story."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of snippet text; ``highlighted`` runs are the terms that matched an alert.

    Keeping segments apart (instead of a string with <mark> inside) lets each template escape
    the text and add its own emphasis, so a hostile headline can never smuggle in markup.
    """

    text: str
    highlighted: bool = False


@dataclass(frozen=True, slots=True)
class DecisionItem:
    """An ombudsman decision, shown substance first."""

    organisation: str
    reference: str
    outcome: str
    category: str
    decision_date: date
    url: str
    subcategory: str = ""
    remedies: tuple[str, ...] = ()  # one line each, e.g. "£700 to Mrs B for distress"
    summary: str = ""
    matched_alerts: tuple[str, ...] = ()
    coverage: tuple[Link, ...] = ()  # news stories that reported this decision
    ombudsman: str = ""  # which ombudsman decided it ("Housing Ombudsman"), shown when set
    # the outcome in the subscribers' vocabulary ("upheld"), what the pill's colour follows
    outcome_kind: str = ""
    kind: Literal["decision"] = field(default="decision", init=False)
    # ``card_key`` worked out once for the run's shared item and kept by its copies
    # (decision_for, story_for); a copy changing what the card shows must not keep it
    card: CardKey | None = field(default=None, compare=False, repr=False)

    @property
    def title(self) -> str:
        """Who and which case first, then the topic: "Norfolk County Council (25 001 101):
        Refuse and recycling". A subcategory alone does not say which decision it is."""
        return f"{self.organisation} ({self.reference}): {self.subcategory or self.category}"


@dataclass(frozen=True, slots=True)
class StoryItem:
    """A news story, possibly syndicated: one item listing every title that ran it."""

    headline: str
    titles: tuple[Link, ...]  # (publication, url); the first is the link we lead with
    earliest_date: date
    snippet: tuple[Segment, ...] = ()
    matched_alerts: tuple[str, ...] = ()
    decision_reference: str = ""  # set when the story reports a decision we know
    kind: Literal["story"] = field(default="story", init=False)
    card: CardKey | None = field(default=None, compare=False, repr=False)  # as DecisionItem's

    def __post_init__(self) -> None:
        if not self.titles:
            raise ValueError("a story needs at least one title that ran it")

    @property
    def url(self) -> str:
        return self.titles[0].url


DigestItem = DecisionItem | StoryItem


def decision_for(item: DecisionItem, matched_alerts: tuple[str, ...]) -> DecisionItem:
    """``item`` with these alert names: a run builds a decision's item once and gives each
    subscriber a copy (positional: 3.8 us an item, where dataclasses.replace took 9.7 and
    building it again 16.5; tests/test_digest_render.py checks every field is copied).
    The copy keeps ``item``'s card key (``with_card``): the names are not part of it."""
    i = item
    return DecisionItem(
        i.organisation, i.reference, i.outcome, i.category, i.decision_date, i.url,
        i.subcategory, i.remedies, i.summary, matched_alerts, i.coverage, i.ombudsman,
        i.outcome_kind, i.card or card_key(i),
    )  # fmt: skip


def story_for(
    item: StoryItem, snippet: tuple[Segment, ...], matched_alerts: tuple[str, ...]
) -> StoryItem:
    """``item`` with this snippet and these alert names (as ``decision_for``)."""
    i = item
    return StoryItem(
        i.headline, i.titles, i.earliest_date, snippet, matched_alerts, i.decision_reference,
        i.card or card_key(i),
    )  # fmt: skip


def with_card(item: DigestItem) -> DigestItem:
    """``item`` carrying its card key, for a run's shared item: its copies for each
    subscriber (``decision_for``, ``story_for``) then share the key instead of each
    template working it out again for every card it looks up (two a story)."""
    if item.card is not None:
        return item
    if isinstance(item, DecisionItem):
        return decision_for(item, item.matched_alerts)
    return story_for(item, item.snippet, item.matched_alerts)


class CardKey:
    """``card_key``'s value with its hash worked out once: the fragment store hashes a key
    at every look-up, and a key holds the item's fields, its links among them (dataclasses
    hashed in Python). Equal when the values are equal."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: tuple[object, ...]) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, CardKey):
            return NotImplemented
        return self._hash == other._hash and self.value == other.value

    def __repr__(self) -> str:
        return f"CardKey({self.value!r})"


def _shown_fields(cls: type, *left_out: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name not in left_out)


# attrgetter: the fields read in one C call, as a tuple.
_DECISION_SHOWN = attrgetter(*_shown_fields(DecisionItem, "matched_alerts", "card"))
_STORY_SHOWN = attrgetter(*_shown_fields(StoryItem, "matched_alerts", "snippet", "card"))


def card_key(item: DigestItem) -> CardKey:
    """What an item's card shows but what differs between subscribers (the names of their
    alerts that matched it; a story's snippet, cut for their terms), both rendered outside
    the cached parts: equal keys, equal cards, so a run renders each card once
    (render.FragmentCache). An item made by ``with_card`` (or copied from one) carries it."""
    if item.card is not None:
        return item.card
    shown = _DECISION_SHOWN if isinstance(item, DecisionItem) else _STORY_SHOWN
    return CardKey((item.kind, shown(item)))


@dataclass(frozen=True, slots=True)
class CouncilGroup:
    """Everything in one digest about one council; ``more_url`` lists all of it on the site,
    ``council_url`` is the council's page (its record at a glance)."""

    council_name: str
    items: tuple[DigestItem, ...]
    more_url: str = ""
    council_url: str = ""

    def visible(self, cap: int) -> tuple[DigestItem, ...]:
        return self.items[:cap]

    def hidden_count(self, cap: int) -> int:
        return max(0, len(self.items) - cap)


@dataclass(frozen=True, slots=True)
class CatchUpLine:
    """Documents stored by a backfill, summarised instead of sent one by one."""

    council_name: str
    count: int
    url: str
    noun: str = "decision"  # singular; the renderer adds the plural


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source is doing, so a quiet digest is not mistaken for no news."""

    name: str
    newest_item_at: datetime | None
    last_success_at: datetime | None
    failing: bool = False
    failing_since: datetime | None = None
    noun: str = "item"  # what the source publishes: "decision", "story"

    @property
    def problem(self) -> bool:
        """Failing, or never fetched successfully: either way the digest may lack items."""
        return self.failing or self.last_success_at is None


@dataclass(frozen=True, slots=True)
class Digest:
    """One email's worth for one subscriber."""

    subscriber_email: str
    manage_url: str
    unsubscribe_url: str
    generated_at: datetime  # timezone-aware; every "2 days ago" is relative to it
    groups: tuple[CouncilGroup, ...] = ()
    catch_up: tuple[CatchUpLine, ...] = ()
    source_health: tuple[SourceHealth, ...] = ()

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be timezone-aware")

    @property
    def items(self) -> tuple[DigestItem, ...]:
        return tuple(item for group in self.groups for item in group.items)

    @property
    def total_documents(self) -> int:
        return sum(len(group.items) for group in self.groups)

    @property
    def decision_count(self) -> int:
        return sum(1 for item in self.items if isinstance(item, DecisionItem))

    @property
    def story_count(self) -> int:
        return sum(1 for item in self.items if isinstance(item, StoryItem))


_FREQUENCY_LABELS = {
    "immediate": "as soon as something matches (within minutes)",
    "daily": "once a day",
    "weekly": "once a week",
}


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """An alert as its owner should check it: what it watches, for what, and how often."""

    name: str
    councils: tuple[str, ...] = ()  # display names, "all councils in Norfolk" for a county
    keywords: str = ""
    filters: tuple[str, ...] = ()  # e.g. "ombudsman decisions only", "outcome: upheld"
    frequency: str = "daily"

    @property
    def lines(self) -> tuple[str, ...]:
        found = [f"Councils: {', '.join(self.councils) if self.councils else 'any council'}"]
        if self.keywords:
            found.append(f"Keywords: {self.keywords}")
        if self.filters:
            found.append(f"Only: {'; '.join(self.filters)}")
        found.append(f"Emails: {_FREQUENCY_LABELS.get(self.frequency, self.frequency)}")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The double opt-in email: nothing else is sent until ``confirm_url`` is visited."""

    subscriber_email: str
    confirm_url: str
    alert_names: tuple[str, ...]
    requested_at: datetime
    alerts: tuple[AlertSummary, ...] = ()  # what is being confirmed, in full


@dataclass(frozen=True, slots=True)
class AddAlertNotice:
    """To a confirmed address: someone asked to add an alert; the link adds it."""

    subscriber_email: str
    add_url: str
    manage_url: str
    alert: AlertSummary
