"""The simulated local publishers (tests/news_sites.py) in `make demo`: each round a story
about the council on the EDP, naming the decisions the other sources just published."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.news_sites import NewsSites, SimItem, article_page
from tests.testweb import LocalWeb


class NewsDemo:
    def __init__(self, web: LocalWeb, today: date) -> None:
        self.sites = NewsSites(web, now=datetime.now(UTC)).install()
        self.rounds = 0

    def config(self) -> str:
        return '[sources.news]\nschedule = "interval:5m"\n' + self.sites.config_toml(
            "edp24", "norfolklive", "bbc-norfolk"
        )

    def publish(self, council: str, today: date, mentions: list[str]) -> list[str]:
        self.rounds += 1
        n = self.rounds
        path = f"/edp24/news/2461{n:04d}.norfolk-update-{n}/"
        headline = f"{council} criticised in ombudsman ruling number {n}"
        now = datetime.now(UTC)
        decision = f" (decision {mentions[0]})" if mentions else ""
        self.sites.add_item(
            "edp24",
            SimItem(headline, path, now, "The council has apologised.", "Demo Reporter"),
            article_page(
                url=self.sites.base + path,
                title=headline,
                site_name="Eastern Daily Press",
                author="Demo Reporter",
                published=now,
                paragraphs=[
                    f"{council} has been told to apologise{decision} after a family waited "
                    "months for help.",
                    "The council said it accepted the findings and had changed how it "
                    "tracks requests, and would pay the family for the time and trouble.",
                    "Councillors are expected to discuss the report at the next meeting "
                    "of the scrutiny committee later this month.",
                ],
            ),
        )
        return [self.sites.base + path]


def demo_site(web: LocalWeb, today: date) -> NewsDemo:
    return NewsDemo(web, today)
