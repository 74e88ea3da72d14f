"""Render digests and confirmation emails to a subject, plain text and HTML.

One Jinja2 Environment for the process (compiled templates are cached inside it) with
autoescape on for every ``*.html.j2`` template and StrictUndefined so a renamed field fails
loudly instead of rendering as nothing. HTML gets its CSS inlined by css-inline (0.7 ms a
digest where premailer took 6 ms, and maintained), keeping @media rules for clients that read
them and never fetching a remote stylesheet: once per template, when it is first used
(alerts/digest/preinline.py: the same bytes as inlining every email, without parsing and
serialising each one), and per email only for what that cannot do.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, nodes, pass_environment
from jinja2.ext import Extension
from jinja2.filters import do_wordwrap
from jinja2.parser import Parser

from alerts.digest.model import (
    AddAlertNotice,
    CatchUpLine,
    Confirmation,
    CouncilGroup,
    DecisionItem,
    Digest,
    DigestItem,
    Segment,
    SourceHealth,
    StoryItem,
    card_key,
)
from alerts.digest.preinline import NeedsParser, pre_inlined
from alerts.digest.subject import count_summary, digest_subject
from alerts.digest.wording import (
    LONDON,
    health_line,
    join_names,
    long_date,
    plural,
    short_date,
)

DEFAULT_CAP = 3  # items shown per council before "and N more"; what PlanningAlerts found works
CONFIRM_SUBJECT = "Confirm your councilwatch alerts"
ADD_ALERT_SUBJECT = "Add this alert to your councilwatch emails?"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _autoescape(template_name: str | None) -> bool:
    # Only HTML templates escape: escaping the plain-text part would print "&amp;" to readers.
    return template_name is not None and template_name.endswith(".html.j2")


def outcome_class(outcome: str) -> str:
    """A CSS class for the outcome pill: upheld stands out, not upheld is muted. ``outcome`` is
    in the subscribers' vocabulary (each source maps its own findings onto it: the item's
    ``outcome_kind``), or a label that starts with it ("Upheld: fault and injustice")."""
    text = outcome.strip().lower()
    if text.startswith("not upheld"):
        return "outcome-not-upheld"
    if text.startswith("upheld"):
        return "outcome-upheld"
    return "outcome-other"


def snippet_text(segment: Segment) -> str:
    """Plain-text emphasis for a matched term: *term*."""
    return f"*{segment.text}*" if segment.highlighted else segment.text


def preheader(item: DigestItem) -> str:
    """The line inbox previews show after the subject: the first item's substance."""
    if isinstance(item, DecisionItem):
        return f"{item.outcome}: {item.organisation}, {item.category}"
    return item.headline


@functools.lru_cache(maxsize=8192)
def _wrapped(
    text: str, width: int, break_long_words: bool, wrapstring: str, break_on_hyphens: bool
) -> str:
    return str(do_wordwrap(_WRAP_ENV, text, width, break_long_words, wrapstring, break_on_hyphens))


_WRAP_ENV = Environment()


@pass_environment
def wordwrap(
    environment: Environment,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """Jinja's ``wordwrap``, remembered: a decision's summary or title is wrapped once per
    run, not once per subscriber's digest (textwrap was a tenth of rendering)."""
    if type(s) is not str:  # Markup and the like: wrapped as Jinja would, not cached
        return str(
            do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)
        )
    return _wrapped(
        s,
        width,
        break_long_words,
        environment.newline_sequence if wrapstring is None else wrapstring,
        break_on_hyphens,
    )


class FragmentCache(Extension):
    """``{% cached "label", key %}...{% endcached %}``: the body rendered once per template,
    label and key, then reused. A digest's cards are most of its rendering and the same
    decision or story is a card in many subscribers' digests; the key must hold everything
    the body shows (``card_key``: the item but the subscriber's alert names, rendered
    outside the block). At most ``LIMIT`` fragments are kept (then the store starts again):
    a full-size run has about 1,000 new documents, each a card in two templates (a story
    two fragments in each), so 4,096 could empty the store mid-run and render every card
    again; quick-size fragments average 600 bytes, so 16,384 are ~10 MB.
    """

    tags = {"cached"}  # noqa: RUF012 (what Jinja's Extension declares)
    LIMIT = 16_384

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.store: dict[tuple[object, ...], str] = {}
        # A filter, not a call: Jinja calls a filter directly, a method through Context.call.
        environment.filters["_cw_stored"] = self._stored

    def parse(self, parser: Parser) -> list[nodes.Node]:
        lineno = next(parser.stream).lineno
        label = parser.parse_expression()
        parser.stream.expect("comma")
        key = parser.parse_expression()
        body = parser.parse_statements(("name:endcached",), drop_needle=True)
        # The template's name is part of the key: the text, HTML and CSS-inlined HTML
        # templates each render a card their own way.
        where = nodes.Const(parser.name)
        call = self.call_method("_fragment", [where, label, key])
        render = nodes.CallBlock(call, [], [], body).set_lineno(lineno)
        # A stored card is looked up by one filter call and written, without making the
        # body's macro and calling through Context.call (most of a hit's cost when every
        # card was a call block); only a card not stored yet goes through the call block.
        # The name is local to the loop the block is in, like a {% set %} there.
        stored = nodes.Filter(key, "_cw_stored", [where, label], [], None, None)
        found = nodes.Assign(nodes.Name("_cw_card", "store"), stored).set_lineno(lineno)
        output = nodes.Output([nodes.Name("_cw_card", "load")])
        written = nodes.If(nodes.Name("_cw_card", "load"), [output], [], [render])
        return [found, written.set_lineno(lineno)]

    def _stored(self, key: object, where: str | None, label: str) -> str:
        """The stored fragment, or "" (a miss: the call block renders and stores it)."""
        return self.store.get((where, label, key), "")

    def _fragment(self, where: str | None, label: str, key: object, caller: Any) -> str:
        stored = (where, label, key)
        found = self.store.get(stored)
        if found is None:
            found = caller()
            if len(self.store) >= self.LIMIT:
                self.store.clear()
            self.store[stored] = found
        return found


def make_environment() -> Environment:
    """A new, empty-cached Environment; the renderer shares one unless given another."""
    env = Environment(
        loader=PackageLoader("alerts.digest", "templates"),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates are package data: nothing changes them while the process runs, so no
        # stat() of every template (and its includes) on every render.
        auto_reload=False,
        extensions=[FragmentCache],
    )
    env.filters.update(
        long_date=long_date,
        short_date=short_date,
        plural=plural,
        join_names=join_names,
        outcome_class=outcome_class,
        snippet_text=snippet_text,
        wordwrap=wordwrap,
        card_key=card_key,
    )
    return env


@functools.cache
def shared_environment() -> Environment:
    return make_environment()


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


# Environment -> template name -> the template with its CSS inlined once (None: cannot be).
_PRE_INLINED: weakref.WeakKeyDictionary[Environment, dict[str, Template | None]] = (
    weakref.WeakKeyDictionary()
)


def _pre_inlined(env: Environment, name: str) -> Template | None:
    by_name = _PRE_INLINED.setdefault(env, {})
    if name not in by_name:
        by_name[name] = pre_inlined(env, name, _inliner().inline)
    return by_name[name]


@dataclass(frozen=True, slots=True)
class _GroupView:
    name: str
    items: tuple[DecisionItem | StoryItem, ...]
    hidden: int
    more_url: str
    count_label: str
    council_url: str


def _group_view(group: CouncilGroup, cap: int) -> _GroupView:
    decisions = sum(1 for item in group.items if isinstance(item, DecisionItem))
    return _GroupView(
        name=group.council_name,
        items=group.visible(cap),
        hidden=group.hidden_count(cap),
        more_url=group.more_url,
        count_label=count_summary(decisions, len(group.items) - decisions),
        council_url=group.council_url,
    )


def _catch_up_label(line: CatchUpLine) -> str:
    return plural(line.count, f"earlier {line.noun}")


# A run's digests share one clock and one reading of the sources' health: the footer's lines
# and the date are worked out once a run, not once a digest.
@functools.lru_cache(maxsize=16)
def _health_lines(
    sources: tuple[SourceHealth, ...], now: datetime
) -> tuple[tuple[str, bool], ...]:
    return tuple((health_line(s, now), s.problem) for s in sources)


@functools.lru_cache(maxsize=16)
def _date_label(now: datetime) -> str:
    return f"{now.astimezone(LONDON):%A} {long_date(now.astimezone(LONDON))}"


class DigestRenderer:
    """Turns ``Digest`` and ``Confirmation`` data into emails.

    ``environment`` is for the benchmark's no-cache baseline and for tests; production code
    uses the shared one.
    """

    def __init__(self, *, environment: Environment | None = None, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.env = environment or shared_environment()
        self.cap = cap

    def _render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def _html(self, name: str, context: dict[str, Any]) -> str:
        template = _pre_inlined(self.env, name)
        if template is not None:
            try:
                return template.render(context)
            except NeedsParser:  # a value css-inline's parser would rewrite: its own way
                pass
        return _inliner().inline(self._render(name, context))

    def digest_context(self, digest: Digest) -> dict[str, Any]:
        now = digest.generated_at
        subject = digest_subject(digest)
        items = digest.items
        return {
            "digest": digest,
            "subject": subject,
            "preheader": preheader(items[0]) if items else subject,
            "date_label": _date_label(now),
            "groups": [_group_view(group, self.cap) for group in digest.groups if group.items],
            "catch_up": [(line, _catch_up_label(line)) for line in digest.catch_up],
            "health": _health_lines(digest.source_health, now),
            "failing_names": [s.name for s in digest.source_health if s.failing],
        }

    def digest(self, digest: Digest) -> RenderedEmail:
        context = self.digest_context(digest)
        return RenderedEmail(
            subject=context["subject"],
            text=self._render("digest.txt.j2", context),
            html=self._html("digest.html.j2", context),
        )

    def confirmation(self, confirmation: Confirmation) -> RenderedEmail:
        context = {"c": confirmation, "subject": CONFIRM_SUBJECT}
        return RenderedEmail(
            subject=CONFIRM_SUBJECT,
            text=self._render("confirm.txt.j2", context),
            html=self._html("confirm.html.j2", context),
        )

    def add_alert(self, notice: AddAlertNotice) -> RenderedEmail:
        context = {"n": notice, "subject": ADD_ALERT_SUBJECT}
        return RenderedEmail(
            subject=ADD_ALERT_SUBJECT,
            text=self._render("addalert.txt.j2", context),
            html=self._html("addalert.html.j2", context),
        )


def render_digest(digest: Digest, *, cap: int = DEFAULT_CAP) -> RenderedEmail:
    """Render with the shared environment."""
    return DigestRenderer(cap=cap).digest(digest)


def render_confirmation(confirmation: Confirmation) -> RenderedEmail:
    return DigestRenderer().confirmation(confirmation)


def render_add_alert(notice: AddAlertNotice) -> RenderedEmail:
    return DigestRenderer().add_alert(notice)
