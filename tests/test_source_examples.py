"""One harness over every source's saved example pages.

Each source keeps pages under ``tests/sources/<source>/NAME.html`` with the expected parse
beside them as ``NAME.json``. A page names the URL it was saved from in the comment browsers
write when saving ("<!-- saved from url=(0042)https://... -->"), so a page describes its own
input. A registered source without examples fails; a page without an expected file gets one
written, and the test fails until a person has reviewed and committed it.

Every source of ``scraper.sources.registry`` is covered by its own ``parse``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from scraper.sources import registry

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
# Parses run at a frozen "today", so the not-in-the-future check is deterministic.
TODAY = date(2026, 11, 30)
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->")


def _registered(name: str) -> Callable[[bytes, str], Any]:
    def parse(content: bytes, url: str) -> Any:
        return registry.load(name).parse(content, url, today=TODAY)

    return parse


PARSERS: dict[str, Callable[[bytes, str], Any]] = {
    name: _registered(name) for name in registry.names()
}


def _examples(registered_only: bool = True) -> list[Path]:
    pages = sorted(SOURCES_DIR.glob("*/*.html"))
    return [page for page in pages if page.parent.name in PARSERS or not registered_only]


def saved_from(content: bytes, page: Path) -> str:
    match = _SAVED_FROM.search(content[:2048])
    if match is None:
        pytest.fail(f"{page}: no '<!-- saved from url=(NNNN)URL -->' comment naming its URL")
    return match.group(1).decode("ascii")


@pytest.mark.parametrize("source", sorted(PARSERS))
def test_every_source_has_examples(source: str) -> None:
    pages = list((SOURCES_DIR / source).glob("*.html"))
    assert pages, f"source {source!r} has no example page under {SOURCES_DIR / source}"


def test_every_example_directory_has_a_parser() -> None:
    unregistered = {page.parent.name for page in _examples(registered_only=False)} - set(PARSERS)
    assert not unregistered, f"example pages without a parser in PARSERS: {sorted(unregistered)}"


@pytest.mark.parametrize("page", _examples(), ids=lambda page: f"{page.parent.name}/{page.stem}")
def test_example_parses_as_expected(page: Path) -> None:
    content = page.read_bytes()
    got = PARSERS[page.parent.name](content, saved_from(content, page))
    expected_file = page.with_suffix(".json")
    if not expected_file.exists():
        expected_file.write_text(
            json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        pytest.fail(f"wrote {expected_file}: review and commit it")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert got == expected
