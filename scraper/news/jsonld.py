"""JSON-LD article nodes of a page (schema.org NewsArticle and kin), including ``@graph``."""

from __future__ import annotations

import json
from typing import Any

ARTICLE_TYPES: tuple[str, ...] = (
    "NewsArticle",
    "ReportageNewsArticle",
    "LiveBlogPosting",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "Article",
    "BlogPosting",
)
_PERSON_TYPES = {"Person"}


def article_nodes(tree: Any) -> list[dict[str, Any]]:
    """Article-typed JSON-LD objects, most specific type first (NewsArticle before Article).

    Scripts that are not valid JSON are skipped: a broken script must not cost the article.
    """
    found: list[dict[str, Any]] = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        found.extend(n for n in _walk(data) if _type_rank(n) < len(ARTICLE_TYPES))
    return sorted(found, key=_type_rank)  # stable: page order within one type


def _walk(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [node for item in data for node in _walk(item)]
    if not isinstance(data, dict):
        return []
    nodes = [data]
    for key in ("@graph", "mainEntity"):
        if key in data:
            nodes.extend(_walk(data[key]))
    return nodes


def _type_rank(node: dict[str, Any]) -> int:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    ranks = [ARTICLE_TYPES.index(k) for k in kinds if isinstance(k, str) and k in ARTICLE_TYPES]
    return min(ranks, default=len(ARTICLE_TYPES))


def first_text(node: Any, key: str) -> str | None:
    """``node[key]`` as stripped text: the first of a list, the ``@value`` of an object."""
    if not isinstance(node, dict):
        return None
    value = node.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text or None
    return None


def author_names(node: dict[str, Any]) -> list[str]:
    """Names of the people credited; organisations (a BBC-style publisher byline) are not."""
    authors = node.get("author") or node.get("creator")
    if not isinstance(authors, list):
        authors = [authors] if authors else []
    names: list[str] = []
    for author in authors:
        if isinstance(author, str):
            name: str | None = author
        elif isinstance(author, dict):
            kind = author.get("@type", "Person")
            kinds = set(kind) if isinstance(kind, list) else {kind}
            name = first_text(author, "name") if kinds & _PERSON_TYPES else None
        else:
            name = None
        if name and name.strip():
            names.append(" ".join(name.split()))
    return names
