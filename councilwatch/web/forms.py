"""The alert form: what a person typed, checked against the register and the query language.

Pure: takes the submitted values and the register, returns either AlertFields or messages
keyed by field, worded for the person filling the form in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from alerts.councils import Register
from alerts.councils.register import COUNTY
from alerts.query import MAX_QUERY_CHARS
from alerts.validity import control_character, valid_alert_query
from cwerrors import QueryError, UnknownCouncilError
from db.subscriptions import FREQUENCIES, AlertFields

KINDS = {"decision": "Ombudsman decisions", "news": "Local news stories"}
OUTCOMES = {
    "upheld": "Upheld (fault found)",
    "not upheld": "Not upheld",
    "closed after initial enquiries": "Closed after initial enquiries",
}
FREQUENCY_LABELS = {
    "immediate": "As it happens (every few minutes)",
    "daily": "Once a day",
    "weekly": "Once a week",
}
MAX_COUNCILS = 20
MAX_QUERY_LENGTH = MAX_QUERY_CHARS
MAX_NAME_LENGTH = 200
BLANK_COUNCIL_INPUTS = 3


@dataclass
class AlertForm:
    """The values to show in the form again, and what was wrong with them."""

    email: str = ""
    councils: list[str] = field(default_factory=list)
    county_wide: bool = False
    query: str = ""
    kinds: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    frequency: str = "daily"
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def council_inputs(self) -> list[str]:
        """The filled-in council boxes and enough empty ones to add more."""
        filled = [c for c in self.councils if c]
        return filled + [""] * max(BLANK_COUNCIL_INPUTS - len(filled), 1)


class FormValues:
    """The subset of Starlette's FormData the form reads (so tests can pass a dict)."""

    def __init__(self, data: Mapping[str, object] | Sequence[tuple[str, str]]) -> None:
        pairs = data.items() if isinstance(data, Mapping) else data
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                if isinstance(item, str):
                    self._values.setdefault(key, []).append(item)

    def get(self, key: str) -> str:
        values = self._values.get(key)
        return values[0].strip() if values else ""

    def getlist(self, key: str) -> list[str]:
        return [v.strip() for v in self._values.get(key, [])]


def read_alert_form(values: FormValues, register: Register) -> tuple[AlertForm, AlertFields | None]:
    """Check the submitted alert; AlertFields when it is valid, else None and form.errors."""
    form = AlertForm(
        email=values.get("email"),
        councils=[c for c in values.getlist("council") if c][:MAX_COUNCILS],
        county_wide=values.get("county_wide") == "on",
        query=values.get("query"),
        kinds=[k for k in values.getlist("kind") if k in KINDS],
        outcomes=[o for o in values.getlist("outcome") if o in OUTCOMES],
        frequency=values.get("frequency") or "daily",
        name=values.get("name")[:MAX_NAME_LENGTH],
    )
    _refuse_controls(values, form)
    council_ids: list[str] = []
    county_ids: list[str] = []
    problems: list[str] = []
    for typed in form.councils if "council" not in form.errors else ():
        try:
            council = register.lookup(typed)
        except UnknownCouncilError as exc:
            hint = f" Did you mean {' or '.join(exc.suggestions)}?" if exc.suggestions else ""
            problems.append(f"We do not know a council called “{typed}”.{hint}")
            continue
        target = county_ids if form.county_wide and council.type == COUNTY else council_ids
        if council.id not in target:
            target.append(council.id)
    if problems:
        form.errors["council"] = " ".join(problems)
    query: str | None = None
    if form.query and "query" not in form.errors:
        if len(form.query) > MAX_QUERY_LENGTH:
            form.errors["query"] = f"Keep the keywords under {MAX_QUERY_LENGTH} characters."
        else:
            try:
                # Alerts with councils may be narrowed by exclusions alone ("-parking").
                valid_alert_query(
                    form.query, councils=council_ids, counties=county_ids, outcomes=form.outcomes
                )
                query = form.query
            except QueryError as exc:
                form.errors["query"] = f"The keywords do not make sense yet: {exc}."
    if not (council_ids or county_ids or query) and not form.errors:
        form.errors["council"] = "Choose at least one council, or give some keywords."
    if form.frequency not in FREQUENCIES:
        form.errors["frequency"] = "Choose how often you want to hear."
    if form.errors:
        return form, None
    names = [register.get(c).common_name for c in council_ids]
    names += [f"all of {register.get(c).common_name}" for c in county_ids]
    name = form.name or default_name(names, query)
    return form, AlertFields(
        name=name,
        councils=tuple(council_ids),
        counties=tuple(county_ids),
        query=query,
        kinds=tuple(form.kinds),
        outcomes=tuple(form.outcomes),
        frequency=form.frequency,
    )


# Every text field a visitor fills in: a control character (NUL, CR/LF...) in any of them is
# refused with that field's error. NUL made PostgreSQL refuse the row (a 503), CR/LF in a
# name came out as lines of the visitor's own text in our confirmation email.
_TEXT_FIELDS = {
    "email": "email address",
    "council": "council names",
    "query": "keywords",
    "name": "alert name",
    "frequency": "choice of how often",
}


def _refuse_controls(values: FormValues, form: AlertForm) -> None:
    for key, label in _TEXT_FIELDS.items():
        for value in values.getlist(key):
            at = control_character(value)
            if at is not None:
                form.errors[key] = (
                    f"The {label} cannot contain control characters or line breaks "
                    f"(found one at position {at + 1}): type plain text on one line."
                )
                break


def default_name(council_names: Sequence[str], query: str | None) -> str:
    parts = []
    if council_names:
        shown = ", ".join(council_names[:3])
        more = len(council_names) - 3
        parts.append(shown + (f" and {more} more" if more > 0 else ""))
    if query:
        # A query with its own quotes reads better without ours around it.
        parts.append(query if '"' in query else f"“{query}”")
    return ": ".join(parts)[:MAX_NAME_LENGTH]
