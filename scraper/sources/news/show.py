"""What `councilwatch parse news` (or `parse article`) prints: an article page's fields and
text, or its JSON."""

from __future__ import annotations

import json
from datetime import date

from cwerrors import CouncilwatchError
from scraper.news import extract_article


def show(content: bytes, url: str, *, today: date, as_json: bool, origin: str) -> str:
    article = extract_article(content, url)
    if not (article.title or article.text):
        raise CouncilwatchError(f"{origin}: not an article page (no title and no text found)")
    if as_json:
        return json.dumps(article.to_json(), indent=2, ensure_ascii=False, default=str)
    rows = [
        ("title", article.title or "-"),
        ("author", article.author or "-"),
        ("published", article.published.isoformat() if article.published else "-"),
        ("modified", article.modified.isoformat() if article.modified else "-"),
        ("canonical_url", article.canonical_url),
        ("site_name", article.site_name or "-"),
        ("ldrs", "yes" if article.ldrs else "no"),
        ("partial", "yes (consent wall or paywall)" if article.partial else "no"),
    ]
    lines = [f"{name + ':':15}{value}" for name, value in rows]
    return "\n".join([*lines, "", article.text or "(no text)"])
