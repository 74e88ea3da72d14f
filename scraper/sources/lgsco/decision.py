"""``parse_decision``: one LGSCO decision page to a :class:`Decision`, from its visible text.

The page reads, whatever the markup:

    Norfolk County Council (23 018 529)          <- title line: organisation and reference
    Category : Children's care services > Other  <- header labels, value on the same line
    Decision : Not upheld                           or on the next (dt/dd, th/td)
    Decision date : 14 Jul 2024
    The Ombudsman's final decision:
    Summary: ...
    The complaint                                <- sections, "Back to top" between them
    1. ...
    Investigator's decision on behalf of the Ombudsman   <- end of the statement
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

from cwerrors import ParseError
from scraper.sources.lgsco.fields import (
    SEPARATORS,
    base_reference,
    find_references,
    parse_date,
    parse_outcome,
)
from scraper.sources.lgsco.layout import (
    BACK_TO_TOP,
    FURNITURE_LINES,
    Page,
    find_labels,
    find_title,
    is_banner_start,
    key,
    label_values,
    match_title,
    read_page,
    split_label,
)
from scraper.sources.lgsco.models import Decision, Outcome, Remedies, Section
from scraper.sources.lgsco.remedies import extract_remedies
from scraper.sources.lgsco.urls import canonical_url
from scraper.text import TextLine, normalise_space

# Top-level headings of statements and reports (compared in :func:`key` form).
KNOWN_HEADINGS: frozenset[str] = frozenset(
    {
        "the complaint",
        "complaint",
        "the ombudsman's role and powers",
        "the ombudsman's role",
        "our role and powers",
        "what i have investigated",
        "what i have and have not investigated",
        "what i have not investigated",
        "parts of the complaint that i did not investigate",
        "how i considered this complaint",
        "how i considered this case",
        "how we considered this",
        "what i found",
        "what we found",
        "findings",
        "my assessment",
        "assessment",
        "conclusions",
        "conclusion",
        "agreed action",
        "agreed actions",
        "recommendations",
        "recommended action",
        "our recommendations",
        "remedy",
        "final decision",
        "decision",
        "background",
        "relevant law and guidance",
        "legal and administrative background",
        "the law",
        "investigation",
        "report summary",
        "the council's response",
        "the trust's response",
        "the care provider's response",
        "the provider's response",
        "parts of the complaint i did not investigate",
    }
)
# Where the statement ends: the signature line; what follows is the site's.
_END_MARKERS = ("investigator's decision on behalf of the ombudsman", "assessment team decision")
_PRE_SUMMARY = "the ombudsman's final decision"
_REMEDY_HEADING = re.compile(r"action|recommend|remed", re.I)
_CATEGORY_SPLIT = re.compile(r"\s*[>\u203a\u00bb]\s*")
_REPORT_HINT = re.compile(
    r"^report by the |public interest report|^investigation into a complaint", re.I
)
_STATEMENT_HINT = re.compile(
    r"decision on behalf of the ombudsman|^the ombudsman's final decision", re.I
)
# A printed paragraph number or bullet: an <ol> page shows none in its text, so drop both.
_PARAGRAPH_MARK = re.compile(r"^(?:\d{1,3}\.|[\u2022\u25cf\u25aa\u00b7*-])\s+")
_MAX_HEADING = 90
# The Ombudsman was set up in 1974; an earlier year is a misread, not an old decision.
_FIRST_YEAR = 1974


@dataclass
class _Header:
    """Values read from the header lines, before the summary."""

    values: dict[str, str] = field(default_factory=dict)
    body_start: int = 0


def _is_heading(line: TextLine, after_separator: bool) -> bool:
    text = line.text
    if key(text) in KNOWN_HEADINGS or line.tag == "h2":
        return True
    # The first line after "Back to top" opens a section when it is short and not a sentence.
    return after_separator and len(text) <= _MAX_HEADING and not text.endswith((".", ";", ","))


def _read_header(lines: list[TextLine], start: int, first: str = "") -> _Header:
    """The labelled fields between the title and the summary, however they are wrapped.

    The header's lines are read as one text, so labels run together by inline markup
    ("...standardsDecision : Closed after initial enquiriesDecision date : 13 Sep 2021") split
    as cleanly as one label per block; ``first`` is what followed the title on its line.
    """
    header = _Header(body_start=len(lines))
    texts = [first] if first else []
    index = start
    while index < len(lines):
        line = lines[index]
        text = line.text
        if is_banner_start(text):
            header.body_start = index
            break
        mark = max(text.find("ummary"), text.find("UMMARY"))
        summary = None
        if mark >= 0:  # only the text before the summary is searched for its label
            found = find_labels(text[: mark + 40])
            summary = next((label for label in found if label.name == "summary"), None)
        if summary is not None:
            texts.append(text[: summary.start])
            value = text[summary.end :].strip(SEPARATORS)
            header.body_start = index + 1
            if not value and index + 1 < len(lines):
                following = lines[index + 1]
                if not find_labels(following.text) and not _is_heading(following, False):
                    value = following.text
                    header.body_start = index + 2
            header.values["summary"] = value
            break
        if (
            split_label(text) is None
            and _is_heading(line, after_separator=False)
            and key(text) != _PRE_SUMMARY
        ):
            header.body_start = index
            break
        texts.append(text)
        index += 1
    text = "\n".join(texts)
    values, _ = label_values(text, find_labels(text))
    for name, value in values.items():
        header.values.setdefault(name, value)
    return header


def _read_sections(lines: list[TextLine]) -> tuple[Section, ...]:
    sections: list[tuple[str, list[str]]] = []
    after_separator = False
    for line in lines:
        text_key = key(line.text)
        if is_banner_start(line.text) or text_key.startswith(_END_MARKERS):
            break
        if text_key == BACK_TO_TOP:
            after_separator = True
            continue
        if text_key in FURNITURE_LINES:
            continue
        if _is_heading(line, after_separator):
            sections.append((line.text.rstrip(" :"), []))
        else:
            if not sections:
                sections.append(("", []))
            sections[-1][1].append(_PARAGRAPH_MARK.sub("", line.text))
        after_separator = False
    return tuple(Section(heading, tuple(paragraphs)) for heading, paragraphs in sections)


def _split_category(text: str) -> tuple[str | None, str | None]:
    """Split "Children's care services > Other" into ("Children's care services", "Other")."""
    if not text:
        return None, None
    parts = _CATEGORY_SPLIT.split(text, maxsplit=1)
    subcategory = parts[1] if len(parts) > 1 else ""
    return parts[0] or None, subcategory or None


def _document_type(stated: str | None, lines: list[TextLine]) -> str | None:
    if stated:
        return stated.capitalize()
    texts = [line.text for line in lines]
    labels = (split_label(text) for text in texts)
    if any(_REPORT_HINT.search(text) for text in texts) or any(
        label is not None and label[0] == "satisfied_date" for label in labels
    ):
        return "Report"
    if any(_STATEMENT_HINT.search(key(text)) for text in texts):
        return "Statement"
    return None


def _remedies(sections: tuple[Section, ...], outcome: Outcome, summary: str) -> Remedies:
    paragraphs = [
        paragraph
        for section in sections
        if _REMEDY_HEADING.search(section.heading)
        for paragraph in section.paragraphs
    ]
    if not paragraphs and outcome is Outcome.UPHELD:
        # Short statements put the agreed remedy only in the summary.
        paragraphs = [summary]
    return extract_remedies(paragraphs)


def _pdf_url(page: Page, url: str) -> str | None:
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if urlsplit(href).path.lower().endswith(".pdf"):
            return urljoin(url, href)
    return None


def _date_field(value: str | None, name: str, url: str) -> date | None:
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError as error:
        raise ParseError(
            f"{url}: {name} {value!r} is not a real date", url=url, field=name
        ) from error
    if parsed is None:
        raise ParseError(f"{url}: {name} {value!r} is not a date", url=url, field=name)
    return parsed


def _check_date(decided: date | None, url: str, today: date | None) -> date:
    if decided is None:
        raise ParseError(f"{url}: no decision date", url=url, field="decision_date")
    if decided.year < _FIRST_YEAR:
        raise ParseError(
            f"{url}: decision date {decided} is before the Ombudsman existed",
            url=url,
            field="decision_date",
        )
    if today is not None and decided > today:
        raise ParseError(
            f"{url}: decision date {decided} is in the future", url=url, field="decision_date"
        )
    return decided


def _title_from_head(page: Page) -> tuple[str, tuple[str, ...], str] | None:
    """Fallback when no visible title line: the document ``<title>``, minus the site name."""
    title = page.root.find(".//title")
    if title is None or not title.text:
        return None
    text = normalise_space(title.text)
    for candidate in (text, *re.split(r"\s+[|\u2013\u2014-]\s+", text)):
        found = match_title(candidate)
        if found:
            return found[0], found[1], candidate
    return None


def parse_decision(content: bytes, url: str, *, today: date | None = None) -> Decision:
    """Parse one decision page.

    Raises :class:`ParseError` naming the URL and field when the reference, organisation or
    decision date is missing, or the date is not real, predates the Ombudsman, or is after
    ``today`` (that last check only runs when ``today`` is given: parsing reads no clock).
    """
    page = read_page(content)
    lines = page.lines
    title_line = find_title(lines)
    if title_line is not None:
        organisation, title_refs, title = (
            title_line.organisation,
            title_line.references,
            title_line.text,
        )
        header_start = title_line.index + 1
        first = title_line.rest
    else:
        fallback = _title_from_head(page)
        if fallback is None:
            raise ParseError(
                f"{url}: no 'Organisation (YY NNN NNN)' title line", url=url, field="reference"
            )
        organisation, title_refs, title = fallback
        header_start = 0
        first = ""
    if not organisation:
        raise ParseError(f"{url}: no organisation in the title", url=url, field="organisation")
    reference = title_refs[0]

    header = _read_header(lines, header_start, first)
    values = header.values
    satisfied_value = values.get("satisfied_date")
    if satisfied_value is None:
        # Reports may print the satisfied line after the summary, so look everywhere.
        for line in lines[header_start:]:
            if "response" not in line.text:
                continue
            found, _ = label_values(line.text, find_labels(line.text))
            if found.get("satisfied_date"):
                satisfied_value = found["satisfied_date"]
                break
    stated_date = _date_field(values.get("decision_date"), "decision_date", url)
    decided = _check_date(stated_date, url, today)
    satisfied = _date_field(satisfied_value, "satisfied_date", url)

    category_text = values.get("category", "")
    category, subcategory = _split_category(category_text)
    outcome_text = values.get("outcome", "")
    outcome = parse_outcome(outcome_text)
    summary = values.get("summary", "")
    sections = _read_sections(lines[header.body_start :])

    family = base_reference(reference)
    page_text = "\n".join(line.text for line in lines[header_start:])
    joint = {ref for ref in find_references(page_text) if base_reference(ref) == family}
    references = tuple(sorted({*title_refs, *joint}))

    return Decision(
        reference=reference,
        references=references,
        organisation=organisation,
        title=title,
        category=category,
        subcategory=subcategory,
        outcome=outcome,
        outcome_text=outcome_text,
        decision_date=decided,
        document_type=_document_type(values.get("document_type"), lines),
        summary=summary,
        sections=sections,
        remedies=_remedies(sections, outcome, summary),
        satisfied_date=satisfied,
        url=canonical_url(url),
        pdf_url=_pdf_url(page, url),
    )
