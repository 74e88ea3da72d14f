"""Article pages: text and metadata from one saved news page.

trafilatura finds the body text (best F-score on its benchmark, reads JSON-LD too); JSON-LD
``NewsArticle`` / ``ReportageNewsArticle`` / ``LiveBlogPosting`` (also inside ``@graph``) and the
page's own ``<link rel=canonical>`` and Open Graph tags win for metadata because publishers fill
them on purpose. Page furniture (captions, "Most Read", "Read more", "You may also want to
watch") is removed from the tree before extraction and from the text after it. Consent walls and
paywalls are detected and reported as ``partial`` rather than returned as text.

Pure: bytes in, data out; dates are never judged against the clock here (the caller, who owns
the clock, rejects future dates).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Document

from cwerrors import ParseError
from scraper.news.jsonld import article_nodes, author_names, first_text
from scraper.news.ldrs import is_ldrs
from scraper.news.titles import normalise_title
from scraper.text import sniff_encoding
from scraper.urls import canonical_url

# htmldate rejects dates after max_date and would default it to today; a fixed far bound keeps
# extraction independent of the clock. Its extensive search (dateparser over free text) costs
# seconds on some pages and is only a fallback here, after JSON-LD and meta dates.
_DATE_PARAMS: dict[str, Any] = {
    "original_date": True,
    "extensive_search": False,
    "max_date": "2100-12-31",
}
# Below this many words, an article page with consent or subscription markers is a wall.
PARTIAL_MAX_WORDS = 120

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# Overlays drawn by consent managers over server-rendered HTML (Sourcepoint, Quantcast, Funding
# Choices, OneTrust, Didomi, TrustArc) and ordinary furniture blocks, matched on class and id.
_CONSENT_ATTR = re.compile(
    r"consent|cookie|gdpr|sp_message|sp-message|qc-cmp|fc-consent|onetrust|didomi|truste"
    r"|privacy-manager",
)
_FURNITURE_ATTR = re.compile(
    r"(?<![a-z])(?:caption|most-?read|most-?popular|read-?more|related|recommended|newsletter"
    r"|social-?share|share-?bar|share-?tools|also-?watch|video-?playlist|trending|outbrain"
    r"|taboola|breadcrumb|comments?)(?![a-z])",
)
_FURNITURE_HEADING = re.compile(
    r"^(?:you may also (?:want to watch|like)|most read|most popular|read more|related"
    r"(?: stories| articles| topics)?|more on this story|top stories|trending|sign up"
    r"|more stories|also in the news)\b",
    re.IGNORECASE,
)
_FURNITURE_LINE = re.compile(
    r"^(?:read more|you may also want to watch|you may also like|most read|related:|"
    r"more on this story|sign up to|image (?:source|caption)|media caption)",
    re.IGNORECASE,
)
_NEWSLETTER_LINE = re.compile(r"\b(?:sign(?:ing)? up|subscribe)\b.*\bnewsletters?\b", re.IGNORECASE)
_WALL_MARKERS = (
    "we value your privacy",
    "before you continue",
    "manage your consent",
    "consent to the use",
    "accept all cookies",
    "your cookie preferences",
    "subscribe to continue",
    "subscribe to read",
    "subscribers only",
    "already a subscriber",
    "to continue reading",
    "this article is for subscribers",
)
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "p", "strong", "div", "span"})
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True)
class Article:
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published: datetime | None  # aware, UTC
    modified: datetime | None  # aware, UTC
    site_name: str | None
    text: str
    ldrs: bool
    partial: bool  # consent wall or paywall: text withheld, use the feed's summary instead
    kind: str | None  # JSON-LD @type of the article node

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "author": self.author,
            "published": self.published.isoformat() if self.published else None,
            "modified": self.modified.isoformat() if self.modified else None,
            "site_name": self.site_name,
            "text": self.text,
            "ldrs": self.ldrs,
            "partial": self.partial,
            "kind": self.kind,
        }


def extract_article(content: bytes, url: str, *, charset: str | None = None) -> Article:
    """Extract one article page. ``charset``: the HTTP-declared charset, or None to sniff."""
    try:
        tree = lxml.html.document_fromstring(_decode(content, charset))
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{url}: not an HTML page: {exc}", url=url, field="html") from exc
    nodes = article_nodes(tree)
    node = nodes[0] if nodes else {}
    paywalled = node.get("isAccessibleForFree") in (False, "false", "False")

    page_canonical = _attr(tree, "//link[@rel='canonical']/@href") or _meta(tree, "og:url")
    title = _title(tree, node)
    author = _author(tree, node)
    published = _datetime(first_text(node, "datePublished")) or _datetime(
        _meta(tree, "article:published_time")
    )
    modified = _datetime(first_text(node, "dateModified")) or _datetime(
        _meta(tree, "article:modified_time")
    )
    site_name = _meta(tree, "og:site_name") or _publisher_name(node)
    kind = _node_type(node)

    _strip_furniture(tree)
    # markers are looked for after consent overlays are gone: an overlay drawn over a complete
    # server-rendered story (Newsquest) is not a wall, a page that is nothing but one is
    page_text = " ".join(tree.text_content().split()).lower()
    extracted = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        date_extraction_params=_DATE_PARAMS,
    )
    text = _clean_text(getattr(extracted, "text", None) or "")
    body = _clean_text(_ld_body(node))
    if len(body.split()) > len(text.split()):
        # JSON-LD articleBody (or a live blog's updates) is the publisher's own text
        text = body

    if isinstance(extracted, Document):
        title = title or extracted.title or None
        author = author or extracted.author or None
        published = published or _datetime(extracted.date)
        # trafilatura falls back to the page title for the site name: worse than nothing
        if extracted.sitename and extracted.sitename != extracted.title:
            site_name = site_name or extracted.sitename

    words = len(text.split())
    walled = any(marker in page_text for marker in _WALL_MARKERS)
    # no text at all (a script-only shell) is as partial as a wall: use the feed's summary
    partial = words == 0 or (words < PARTIAL_MAX_WORDS and (walled or paywalled))
    if partial:
        text = ""
    return Article(
        url=url,
        canonical_url=canonical_url(url, page_canonical=page_canonical),
        title=title,
        author=author,
        published=published,
        modified=modified,
        site_name=site_name,
        text=text,
        ldrs=is_ldrs(text) or is_ldrs(author or ""),
        partial=partial,
        kind=kind,
    )


def _decode(content: bytes, charset: str | None) -> str:
    """Bytes to text by the HTTP-declared charset, else as :func:`sniff_encoding` decides."""
    encoding = sniff_encoding(content)
    if charset:
        try:
            encoding = codecs.lookup(charset.strip()).name
        except LookupError:  # an unknown label: keep the sniffed encoding
            pass
        else:
            # WHATWG: a page declared Latin-1 or ASCII is windows-1252 in every browser
            encoding = "cp1252" if encoding in ("iso8859-1", "ascii") else encoding
    text = content.decode(encoding, errors="replace").removeprefix("\ufeff")
    # lxml refuses str input that still carries an XML encoding declaration
    return _XML_DECLARATION.sub("", text)


def _attr(tree: Any, xpath: str) -> str | None:
    values = [str(v).strip() for v in tree.xpath(xpath) if str(v).strip()]
    return values[0] if values else None


def _meta(tree: Any, name: str) -> str | None:
    return _attr(tree, f"//meta[@property='{name}' or @name='{name}']/@content")


def _title(tree: Any, node: dict[str, Any]) -> str | None:
    """The displayed headline: the first <h1> that agrees with the page's declared titles."""
    declared = [
        t
        for t in (
            first_text(node, "headline"),
            _meta(tree, "og:title"),
            _attr(tree, "//title/text()"),
        )
        if t
    ]
    declared_words = [set(normalise_title(t).split()) for t in declared]
    for heading in tree.xpath("//h1"):
        text = " ".join(heading.text_content().split())
        words = set(normalise_title(text).split())
        if len(words) < 3:
            continue
        # an <h1> holding a logo or a gallery caption shares few words with the declared title
        if any(len(words & d) >= 0.6 * len(words) for d in declared_words):
            return text
    return " ".join(declared[0].split()) if declared else None


def _author(tree: Any, node: dict[str, Any]) -> str | None:
    names = author_names(node)
    if not names:
        meta = _meta(tree, "author")
        names = [meta] if meta and not meta.startswith(("http://", "https://")) else []
    cleaned = [_BY.sub("", n).strip() for n in names]
    cleaned = [n for n in cleaned if n]
    return "; ".join(dict.fromkeys(cleaned)) or None


def _publisher_name(node: dict[str, Any]) -> str | None:
    publisher = node.get("publisher")
    if isinstance(publisher, list) and publisher:
        publisher = publisher[0]
    if isinstance(publisher, dict):
        return first_text(publisher, "name")
    return None


def _node_type(node: dict[str, Any]) -> str | None:
    kind = node.get("@type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def _ld_body(node: dict[str, Any]) -> str:
    body = first_text(node, "articleBody") or ""
    updates = node.get("liveBlogUpdate")
    if isinstance(updates, dict):
        updates = [updates]
    if isinstance(updates, list):
        parts = [first_text(u, "articleBody") for u in updates if isinstance(u, dict)]
        body = "\n".join([body, *[p for p in parts if p]]).strip()
    return body


def _datetime(value: str | None) -> datetime | None:
    """ISO 8601 as aware UTC; a bare date is midnight UTC; naive times are taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _strip_furniture(tree: Any) -> None:
    doomed = list(tree.xpath("//figcaption | //aside | //script | //style | //noscript"))
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("html", "body", "article"):
            continue
        marks = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if marks.strip() and (_CONSENT_ATTR.search(marks) or _FURNITURE_ATTR.search(marks)):
            doomed.append(element)
        elif element.tag in _HEADING_TAGS and _is_furniture_heading(element):
            doomed.append(element)
            # the list of links that follows a "Most Read" heading goes with it
            following = element.getnext()
            if following is not None and following.tag in ("ul", "ol"):
                doomed.append(following)
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
    _unwrap_layout_tables(tree)


def _unwrap_layout_tables(tree: Any) -> None:
    """Old sites lay the page out in a table; extractors then render the story as table cells."""
    for table in tree.xpath("//table[.//td//p or .//td//h1 or .//td//h2]"):
        for element in table.iter("table", "thead", "tbody", "tfoot", "tr", "td", "th"):
            element.tag = "div"


def _is_furniture_heading(element: Any) -> bool:
    words = element.text_content().split()
    # a short label, not a paragraph that happens to begin "Related to this, ..."
    return len(words) <= 15 and bool(_FURNITURE_HEADING.match(" ".join(words)))


def _clean_text(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if not line or _FURNITURE_LINE.match(line):
            continue
        if len(line.split()) <= 30 and _NEWSLETTER_LINE.search(line):
            continue
        lines.append(line)
    return "\n".join(lines)
