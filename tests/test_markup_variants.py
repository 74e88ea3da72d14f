"""The markup-variation harness: every example page, re-marked-up, parses to the same JSON.

For each source in ``VARIED`` every example page under tests/sources/<source>/ is rendered by
:mod:`tests.markup_variants` in each named variant (every field group as blocks, inline spans
with and without whitespace and with " · ", " | ", ", " between them, a table row, a definition
list, a list, extra wrappers; and the page with classes and ids stripped), then Hypothesis mixes
them: each group its own rendering, classes stripped or not. The parse must equal the
original's. A source joins by adding its name here once its parser reads text, not markup.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.sources import registry
from scraper.text import parse_html, visible_lines
from tests.markup_variants import RENDERINGS, count_groups, rerender, variants
from tests.test_source_examples import PARSERS, SOURCES_DIR, saved_from

# every decision source's pages (news articles go through the extractor, not field tables)
VARIED = tuple(info.name for info in registry.infos() if info.document_kind == "decision")
PAGES = sorted(page for source in VARIED for page in (SOURCES_DIR / source).glob("*.html"))
NAMED_VARIANTS = len(RENDERINGS) + 1
MIXED_EXAMPLES = 8


def _parse(page: Path, content: bytes) -> str:
    url = saved_from(page.read_bytes(), page)
    return json.dumps(PARSERS[page.parent.name](content, url), sort_keys=True, indent=1)


def _id(page: Path) -> str:
    return f"{page.parent.name}/{page.stem}"


def test_every_varied_source_has_pages_with_field_groups() -> None:
    for source in VARIED:
        pages = [page for page in PAGES if page.parent.name == source]
        assert pages and source in PARSERS
        # The harness is only worth its time if it finds something to vary on most pages.
        assert sum(count_groups(page.read_bytes()) > 0 for page in pages) >= len(pages) - 2


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_named_variant_parses_as_the_original(page: Path) -> None:
    content = page.read_bytes()
    expected = _parse(page, content)
    seen = 0
    for name, variant in variants(content):
        assert _parse(page, variant) == expected, f"{_id(page)} as {name}"
        seen += 1
    assert seen == NAMED_VARIANTS


@pytest.mark.parametrize("page", PAGES, ids=_id)
@settings(
    max_examples=MIXED_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mixed_variants_parse_as_the_original(page: Path, data: st.DataObject) -> None:
    content = page.read_bytes()
    groups = count_groups(content)
    chosen = data.draw(st.lists(st.sampled_from(RENDERINGS), min_size=groups, max_size=groups))
    strip = data.draw(st.booleans())
    variant = rerender(content, lambda index: chosen[index], strip=strip)
    assert _parse(page, variant) == _parse(page, content), (
        f"{_id(page)} as {[str(r) for r in chosen]}, strip={strip}"
    )


def _lines(content: bytes) -> list[str]:
    return [line.text for line in visible_lines(parse_html(content))]


def test_the_transformer_really_changes_what_the_parser_reads() -> None:
    content = (SOURCES_DIR / "lgsco" / "listing-first.html").read_bytes()
    assert "Statement" in _lines(content)
    assert "StatementUpheldHomelessness19-Dec-2024" in _lines(rerender(content, RENDERINGS[2]))
    assert "Statement | Upheld | Homelessness | 19-Dec-2024" in _lines(
        rerender(content, RENDERINGS[4])
    )
    assert b'class="' not in rerender(content, None, strip=True)
    assert b"<dt" in rerender(content, RENDERINGS[7])
    old = (SOURCES_DIR / "lgsco" / "decision-old-style-long-outcome.html").read_bytes()
    assert any(
        line.startswith("Category : Planning > Planning applicationsDecision : Upheld")
        for line in _lines(rerender(old, RENDERINGS[2]))
    )
