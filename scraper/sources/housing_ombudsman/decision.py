"""``parse_decision``: one Housing Ombudsman decision page to an :class:`HoDecision`.

The page reads, whatever the markup (a table, a definition list, "Label: value" lines, or
everything run together on one line as "Case ID202312345Decision typeInvestigation..."):

    Clarion Housing Association Limited (202312345)   <- the title line (optional)
    Case ID 202312345 / Decision type / Jurisdiction / Landlord / Landlord type /
    Occupancy / Date 18May 2026                       <- the field table
    Background / What the complaint is about / Our decision (determination) /
    Summary of reasons / Putting things right         <- the "Investigation" layout
    REPORT / COMPLAINT 202012345 / Our approach / The complaint / Background /
    Assessment and findings / Determination (decision) / Reasons /
    Orders and recommendations                        <- the older "REPORT" layout

Findings come as complaint/finding pairs (a table of two cells, or "Complaint: ..." and
"Finding: ..." lines) or as determination sentences ("there was severe maladministration by
the landlord in respect of its handling of ..."). A page without a case id, landlord, date
or a single finding is not a decision: :class:`cwerrors.ParseError` names what is missing.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from cwerrors import ParseError
from scraper.sources.housing_ombudsman.fields import (
    CASE_ID,
    URL_CASE_ID,
    amount_pence,
    finding_in,
    finding_label,
    parse_date,
)
from scraper.sources.housing_ombudsman.layout import (
    COMPLAINT_HEADINGS,
    DECISION_HEADINGS,
    REMEDY_HEADINGS,
    REPORT_CASE_LINE,
    Page,
    is_end,
    is_heading,
    key,
    read_page,
)
from scraper.sources.housing_ombudsman.models import (
    ComplaintFinding,
    Finding,
    HoDecision,
    Remedy,
    Section,
)
from scraper.text import normalise_space

# Labels as printed, case-sensitive: inside values the same words are lower case, and with
# no whitespace between cells a label is glued to the previous value ("CouncilLandlord type").
_FIELDS = {
    "Case ID": "case_id",
    "Case reference": "case_id",
    "Case number": "case_id",
    "Decision type": "decision_type",
    "Decision date": "date",
    "Date of decision": "date",
    "Jurisdiction": "jurisdiction",
    "Landlord type": "landlord_type",
    "Landlord": "landlord",
    "Occupancy": "occupancy",
    "Date": "date",
}
_FIELD = re.compile(
    r"(?P<label>" + "|".join(sorted(map(re.escape, _FIELDS), key=len, reverse=True)) + r")"
    r"(?![a-z])\s*:?\s*"
)
_CASE_LABEL = re.compile(r"Case (?:ID|reference|number)(?![a-z])")
_TITLE = re.compile(r"^(?P<landlord>.+?)\s*\((?P<case>\d{9})\)$")
_PARAGRAPH_MARK = re.compile(r"^(?:\(?\d{1,3}[.)]|\(?[a-z][.)]|[\u2022\u25cf\u25aa\u00b7*-])\s+")
_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-Z(\u2018\"'])")
# A finding as a table cell prints capitalised and is followed by a separator, the next cell
# (glued: "…mouldSevere maladministrationThe landlord's…") or the end of the line; in a
# sentence it is followed by words ("Maladministration in the landlord's handling…").
_CELL_FINDING = re.compile(
    r"(?P<finding>Severe maladministration|No maladministration|Maladministration|"
    r"Service failure|Reasonable redress|Outside (?:of )?jurisdiction)"
    r"\.?(?=\s*(?:[|\u00b7,;]\s*)?(?:[A-Z]|$))"
)
_CELL_EDGES = re.compile(
    r"^(?:[\s|\u00b7,;:]|Complaint\s*[|\u00b7,;]?\s*(?:Finding|Determination)|Complaint\s*\d*\s*:|"
    r"(?:Finding|Determination)\s*:)+|(?:[\s|\u00b7,;:]|(?:Finding|Determination)\s*:?)+$"
)
_LABELLED = re.compile(
    r"^(?P<label>complaint|finding|determination)\s*\d*\s*:\s*(?P<value>.+)$", re.I
)
_TABLE_HEADERS = frozenset(
    {
        "complaint",
        "finding",
        "determination",
        "complaint finding",
        "requirement",
        "due date",
        "requirement due date",
        "order",
        "recommendation",
    }
)
_SQUEEZED_HEADERS = frozenset(h.replace(" ", "") for h in _TABLE_HEADERS)


def _is_table_header(text: str) -> bool:
    """A header row or cell, also when its cells ran together ("ComplaintFinding")."""
    return key(text).replace(" ", "") in _SQUEEZED_HEADERS


_COMPLAINT_AFTER = re.compile(
    r"\b(?:in respect of|in relation to|regarding|concerning)\s+(?P<complaint>.+)$", re.I
)
_COMPLAINT_BEFORE = re.compile(
    r"\bcomplaints?\s+(?:about|regarding|concerning|that)\s+(?P<complaint>.+?)"
    r"(?:\s+(?:is|was|are|were|falls?|fell)\b|\s+satisfactorily\b|[.;]?$)",
    re.I,
)
_AFTER_FINDING = re.compile(
    r"^\s*(?:by\s+the\s+landlord\s*)?(?:in|for|with|on)\s+(?P<rest>.+)$", re.I
)
_DUE_SUFFIX = re.compile(
    r"(?:\s+|(?<=[.;:]))(?:no later than|by|within|due)\s+\d{1,2}\s*[A-Za-z]+\s*\d{4}\.?$",
    re.I,
)
_DUE_LINE = re.compile(
    r"^(?:no later than|within|by)\b.{0,40}$|^\d{1,2}\s*[A-Za-z]+\s*\d{4}$", re.I
)
_RECOMMEND = re.compile(r"\brecommend", re.I)
_SITE_SUFFIX = re.compile(r"\s*[-|\u2013]\s*Housing Ombudsman.*$", re.I)


def canonical_url(url: str) -> str:
    """The decision's URL without query or fragment, with its trailing slash."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_decision(content: bytes, url: str, *, today: date | None = None) -> HoDecision:
    page = read_page(content)
    texts = [line.text for line in page.lines]
    start = next((i for i, text in enumerate(texts) if _CASE_LABEL.search(text)), None)
    if start is None:
        raise ParseError(f"{url}: no 'Case ID' field: not a Housing Ombudsman decision page")
    body_start = next((i for i in range(start, len(texts)) if _opens_body(texts[i])), len(texts))
    fields = _fields(" \n ".join(texts[start:body_start]))
    case_id = _case_id(fields.get("case_id", ""), url)
    landlord = fields.get("landlord") or ""
    title_line = _title(texts[:body_start], page)
    if not landlord and title_line is not None:
        landlord = title_line[0]
    if not landlord:
        raise ParseError(f"{url}: no landlord in the decision's field table")
    decided = parse_date(fields.get("date", ""))
    if decided is None:
        raise ParseError(
            f"{url}: no decision date in the field table (Date: {fields.get('date')!r})"
        )
    if today is not None and decided > today:
        raise ParseError(f"{url}: decision date {decided} is in the future")
    sections = _sections(texts[body_start:])
    findings, sections = _findings(sections)
    remedies, sections = _remedies(sections)
    if not findings:
        raise ParseError(f"{url}: no finding (maladministration, service failure, ...) found")
    layout = "report" if _is_report(texts[body_start:], sections) else "investigation"
    title = f"{landlord} ({case_id})"
    return HoDecision(
        case_id=case_id,
        title=title,
        landlord=landlord,
        landlord_type=fields.get("landlord_type") or None,
        decision_type=fields.get("decision_type") or None,
        jurisdiction=fields.get("jurisdiction") or None,
        occupancy=fields.get("occupancy") or None,
        decision_date=decided,
        layout=layout,
        summary=_summary(sections),
        findings=findings,
        remedies=remedies,
        sections=tuple(Section(heading, tuple(paras)) for heading, paras in sections),
        url=canonical_url(url),
    )


def is_decision_page(page: Page) -> bool:
    return any(_CASE_LABEL.search(line.text) for line in page.lines)


def _opens_body(text: str) -> bool:
    return is_heading(text) or bool(REPORT_CASE_LINE.match(text))


def _fields(region: str) -> dict[str, str]:
    """Label -> value from the field table's text: the first occurrence of each label."""
    matches = list(_FIELD.finditer(region))
    found: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(region)
        name = _FIELDS[match.group("label")]
        value = normalise_space(region[match.end() : end]).strip(" :|,;\u00b7")
        if name not in found:
            found[name] = value
    return found


def _case_id(value: str, url: str) -> str:
    match = CASE_ID.search(value)
    if match:
        return match.group(1)
    from_url = URL_CASE_ID.search(urlsplit(url).path)
    if from_url:
        return from_url.group(1)
    raise ParseError(f"{url}: no nine-digit case id in the field table (Case ID: {value!r})")


def _title(lines: list[str], page: Page) -> tuple[str, str] | None:
    for text in lines:
        match = _TITLE.match(text)
        if match:
            return match.group("landlord"), match.group("case")
    title = page.root.findtext(".//title")
    if title:
        match = _TITLE.match(_SITE_SUFFIX.sub("", normalise_space(title)))
        if match:
            return match.group("landlord"), match.group("case")
    return None


def _paragraph(text: str) -> str:
    return _PARAGRAPH_MARK.sub("", text).strip()


def _sections(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Top-level headings and their paragraphs; what precedes the first heading is dropped."""
    sections: list[tuple[str, list[str]]] = []
    for text in lines:
        if is_end(text):
            break
        if is_heading(text) and key(text) != "report":
            sections.append((text.rstrip(" :"), []))
        elif sections and not REPORT_CASE_LINE.match(text) and key(text) != "report":
            paragraph = _paragraph(text)
            if paragraph:
                sections[-1][1].append(paragraph)
    return sections


def _is_report(lines: list[str], sections: list[tuple[str, list[str]]]) -> bool:
    if any(key(text) == "report" or REPORT_CASE_LINE.match(text) for text in lines[:5]):
        return True
    return any(key(h) in ("determination (decision)", "our approach") for h, _ in sections)


def _findings(
    sections: list[tuple[str, list[str]]],
) -> tuple[tuple[ComplaintFinding, ...], list[tuple[str, list[str]]]]:
    """The findings, and the sections with each complaint/finding pair as one paragraph
    ("Complaint: Finding"), however the page laid the pair out (cells, lines or one line)."""
    found: list[ComplaintFinding] = []
    cleaned: list[tuple[str, list[str]]] = []
    for heading, paragraphs in sections:
        if key(heading) in DECISION_HEADINGS:
            items, paragraphs = _section_findings(paragraphs)
            found.extend(items)
        cleaned.append((heading, paragraphs))
    unique: dict[tuple[str, Finding], ComplaintFinding] = {}
    for item in found:
        unique.setdefault((item.complaint.lower(), item.finding), item)
    return tuple(unique.values()), cleaned


def _section_findings(paragraphs: list[str]) -> tuple[list[ComplaintFinding], list[str]]:
    found: list[ComplaintFinding] = []
    kept: list[str] = []
    pending: tuple[str, int | None] | None = None  # a complaint waiting for its finding

    def pair(complaint: str, finding: Finding, text: str) -> None:
        item = ComplaintFinding(_complaint(complaint), finding, text.rstrip(" ."))
        found.append(item)
        line = f"{item.complaint}: {item.text}"
        if pending is not None and pending[1] is not None:
            kept[pending[1]] = line  # the complaint's own paragraph becomes the pair
        else:
            kept.append(line)

    for text in paragraphs:
        cells = _cell_pairs(text)
        if cells:
            pending = None
            for complaint, finding, printed in cells:
                pair(complaint, finding, printed)
            continue
        labelled = _LABELLED.match(text)
        if labelled:
            value = labelled.group("value").strip()
            if labelled.group("label").lower() == "complaint":
                pending = (value, None)
                continue
            text = value
        if _is_table_header(text):
            continue
        label = finding_label(text)
        if label is not None:
            if pending is not None:
                pair(pending[0], label, text)
            else:
                kept.append(text)
            pending = None
            continue
        stated = [f for s in _SENTENCE_END.split(text) if (f := _sentence_finding(s))]
        kept.append(text)
        if stated:
            found.extend(stated)
            pending = None
        else:
            pending = (text, len(kept) - 1)
    return found, kept


def _cell_pairs(text: str) -> list[tuple[str, Finding, str]]:
    """Complaint/finding cells run together on one line ("The landlord's repairs | Service
    failure | ..."), however they were joined; [] when the line is not just such cells."""
    pairs: list[tuple[str, Finding, str]] = []
    start = 0
    for match in _CELL_FINDING.finditer(text):
        complaint = _CELL_EDGES.sub("", text[start : match.start()])
        finding = finding_label(match.group("finding"))
        if not complaint or finding is None or finding_in(complaint) is not None:
            return []
        pairs.append((complaint, finding, match.group("finding")))
        start = match.end()
    if _CELL_EDGES.sub("", text[start:]):
        return []  # text after the last finding: a sentence, not cells
    return pairs


def _sentence_finding(sentence: str) -> ComplaintFinding | None:
    located = finding_in(sentence)
    if located is None:
        return None
    finding, match = located
    complaint = None
    for pattern in (_COMPLAINT_AFTER, _COMPLAINT_BEFORE):
        hit = pattern.search(sentence)
        if hit:
            complaint = hit.group("complaint")
            break
    if complaint is None:
        rest = _AFTER_FINDING.match(sentence[match.end() :])
        complaint = rest.group("rest") if rest else ""
    complaint = _complaint(complaint)
    if not complaint:
        return None
    return ComplaintFinding(complaint, finding, sentence.strip())


def _complaint(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(" .;,")
    text = re.sub(r"^its\s+", "the landlord's ", text, flags=re.I)
    return text[:1].upper() + text[1:] if text else text


def _summary(sections: list[tuple[str, list[str]]]) -> str:
    by_heading = {key(heading): paragraphs for heading, paragraphs in sections}
    for name in (*COMPLAINT_HEADINGS, "summary of reasons", "background"):
        paragraphs = by_heading.get(name)
        if paragraphs:
            return paragraphs[0]
    return ""


def _remedies(
    sections: list[tuple[str, list[str]]],
) -> tuple[tuple[Remedy, ...], list[tuple[str, list[str]]]]:
    """Orders and recommendations, and the sections without table headers and due dates."""
    remedies: list[Remedy] = []
    cleaned: list[tuple[str, list[str]]] = []
    for heading, paragraphs in sections:
        name = key(heading)
        if name not in REMEDY_HEADINGS:
            cleaned.append((heading, paragraphs))
            continue
        kept: list[str] = []
        kind = {"orders": "order", "recommendations": "recommendation"}.get(name)
        for text in paragraphs:
            marker = key(text)
            if marker in ("orders", "order", "recommendations", "recommendation"):
                kind = "recommendation" if marker.startswith("recommend") else "order"
                kept.append(text)
                continue
            if _is_table_header(text) or _DUE_LINE.match(text):
                continue
            text = _DUE_SUFFIX.sub("", text)
            last = remedies[-1] if remedies else None
            if last is not None and last.text.endswith(":") and text.startswith("£"):
                # a breakdown of the sum the line before ordered
                remedies[-1] = Remedy(last.kind, f"{last.text} {text}", last.amount_pence)
                kept[-1] = remedies[-1].text
                continue
            kept.append(text)
            if text.endswith(":") and amount_pence(text) == 0:
                continue  # "The landlord is ordered within four weeks to:"
            this_kind = kind or ("recommendation" if _RECOMMEND.search(text) else "order")
            remedies.append(Remedy(this_kind, text, amount_pence(text)))
        cleaned.append((heading, kept))
    return tuple(remedies), cleaned
