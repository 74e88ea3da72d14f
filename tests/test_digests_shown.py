"""What a digest run leaves undone because nobody would see it: the golden digest's world
(tests/test_digests_golden.py: two items shown per council, a Norfolk story below three
decisions), built on the database path, with the same bytes as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import councilwatch.digests as digests
from councilwatch.runtime import Runtime
from tests.digestkit import T0, T2, Clock, Setup
from tests.runtimes import make_runtime
from tests.test_digests_golden import CONFIG, assert_golden, fill, part


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    clock = Clock(T0)
    runtime: Runtime = make_runtime(database_url, tmp_path, now=clock, toml=CONFIG)
    yield Setup(runtime, clock, server=None)  # type: ignore[arg-type]  # no SMTP needed
    runtime.close()


def test_an_item_below_its_councils_cap_gets_no_excerpt_cut(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items past ``items_per_group`` are only counted ("and 1 more"): the story hidden
    under Norfolk's three decisions has no excerpt cut for it, and the email is the same."""
    cut: list[str] = []
    excerpt = digests.story_excerpt

    def counted(*args: object, **kwargs: object) -> object:
        cut.append("cut")
        return excerpt(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digests, "story_excerpt", counted)
    fill(setup)
    setup.clock.current = T2
    [built] = digests.run_digests(setup.runtime, "daily", dry_run=True).digests
    assert "and 2 more for Norfolk County Council" in part(built.message, "plain")
    assert cut == []
    assert_golden("digest.txt", part(built.message, "plain"))
    assert_golden("digest.html", part(built.message, "html"))


def test_a_keyword_alert_is_not_parsed_to_list_its_items_under_a_council(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An alert naming no council has no councils whatever its query: its query is not
    parsed to find them (it matched decisions only, so nothing else wants it parsed)."""
    parsed: list[str] = []
    spec = digests.alert_spec

    def counted(alert: object, register: object) -> object:
        parsed.append(alert.name)  # type: ignore[attr-defined]
        return spec(alert, register)  # type: ignore[arg-type]

    monkeypatch.setattr(digests, "alert_spec", counted)
    fill(setup)
    setup.clock.current = T2
    [built] = digests.run_digests(setup.runtime, "daily", dry_run=True).digests
    assert "Upheld with payment" in part(built.message, "plain")  # its matches are listed
    assert "Upheld with payment" not in parsed
    assert "Norfolk" in parsed  # a council alert's spec still says which councils
