"""Local Democracy Reporting Service attribution."""

from __future__ import annotations

import pytest

from scraper.news import is_ldrs


@pytest.mark.parametrize(
    "text",
    [
        "Tom Hadley is a Local Democracy Reporter covering Oxfordshire.",
        "By Kieran Doyle, Local Democracy Reporting Service",
        "This story was written by a local democracy reporter funded by the BBC.",
        "The Local\nDemocracy Reporting Service is a public service news agency.",
        "Reporting by Jo Blake (LDRS)",
        "Local Democracy Reporters are placed with regional titles.",
    ],
)
def test_attribution_is_detected(text: str) -> None:
    assert is_ldrs(text)


@pytest.mark.parametrize(
    "text",
    [
        "The cuts are a blow to local democracy, reporting to residents less often.",
        "Campaigners said local democracy had been weakened by the decision.",
        "A reporter attended the council meeting.",
        "the ldrs of the world",  # lower-case letters are not the acronym
        "",
    ],
)
def test_no_attribution(text: str) -> None:
    assert not is_ldrs(text)
