"""An invented digest for previews, the docs screenshot, golden tests and the benchmark.

Every person, amount and reference here is made up; the council and newspaper names are real
so the preview looks like the real thing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from alerts.digest.model import (
    CatchUpLine,
    CouncilGroup,
    DecisionItem,
    Digest,
    Link,
    Segment,
    SourceHealth,
    StoryItem,
)
from alerts.digest.wording import LONDON

SITE = "https://councilwatch.example"
SAMPLE_NOW = datetime(2025, 3, 4, 8, 0, tzinfo=LONDON)


def _url(reference: str) -> str:
    return f"{SITE}/decisions/{reference.replace(' ', '')}"


def sample_digest(
    subscriber_email: str = "mrs.b@example.org", generated_at: datetime = SAMPLE_NOW
) -> Digest:
    """A digest with every kind of content: decisions, syndicated news, a cap, a catch-up
    section and a failing source."""
    norfolk = CouncilGroup(
        council_name="Norfolk County Council",
        more_url=f"{SITE}/councils/norfolk-county-council?since=2025-03-03",
        items=(
            DecisionItem(
                reference="24 011 482",
                url=_url("24 011 482"),
                organisation="Norfolk County Council",
                outcome="Upheld: fault and injustice",
                category="Education",
                subcategory="Special educational needs",
                decision_date=date(2025, 2, 24),
                remedies=(
                    "£1,350 to Mrs B for 27 weeks of lost special educational provision",
                    "£300 to Mrs B for distress and time spent chasing the council",
                    "Apology within one month",
                    "Review how annual reviews are tracked, within three months",
                ),
                summary=(
                    "The council took 41 weeks to finish an Education, Health and Care plan "
                    "for Mrs B's son, against a legal limit of 20. He missed speech and "
                    "language therapy for most of a school year."
                ),
                matched_alerts=("Norfolk SEND", "Upheld payments over £1,000"),
                coverage=(
                    Link("Eastern Daily Press", "https://news.example/edp/ehcp-delay-payment"),
                ),
            ),
            StoryItem(
                headline="Council to pay mother after year-long wait for son's support plan",
                titles=(
                    Link("Eastern Daily Press", "https://news.example/edp/ehcp-delay-payment"),
                    Link("Norwich Evening News", "https://news.example/ene/ehcp-delay-payment"),
                    Link("Dereham Times", "https://news.example/dt/ehcp-delay-payment"),
                ),
                earliest_date=date(2025, 3, 3),
                snippet=(
                    Segment("The ombudsman said the delay in the boy's "),
                    Segment("education, health and care plan", highlighted=True),
                    Segment(" left him without therapy for most of a school year."),
                ),
                matched_alerts=("Norfolk SEND",),
                decision_reference="24 011 482",
            ),
            DecisionItem(
                reference="24 009 317",
                url=_url("24 009 317"),
                organisation="Broadland Home Care Ltd",
                outcome="Not upheld: no fault",
                category="Adult care services",
                subcategory="Home care",
                decision_date=date(2025, 2, 20),
                summary=(
                    "Mr D said carers arranged by the council often came late to his mother. "
                    "The provider's visit records showed calls inside the agreed window."
                ),
                matched_alerts=("Norfolk SEND",),
            ),
            DecisionItem(
                reference="24 013 006",
                url=_url("24 013 006"),
                organisation="Norfolk County Council",
                outcome="Upheld: fault and injustice",
                category="Highways",
                subcategory="Drainage",
                decision_date=date(2025, 2, 18),
                remedies=("£250 to Ms K for time and trouble",),
                summary="The council did not clear a blocked gully it had promised to fix.",
                matched_alerts=("Norfolk SEND",),
            ),
            DecisionItem(
                reference="24 012 770",
                url=_url("24 012 770"),
                organisation="Norfolk County Council",
                outcome="Closed after initial enquiries",
                category="Transport",
                subcategory="School transport",
                decision_date=date(2025, 2, 17),
                summary="Mr H could appeal to the council's transport panel first.",
                matched_alerts=("Norfolk SEND",),
            ),
        ),
    )
    cumberland = CouncilGroup(
        council_name="Cumberland Council",
        more_url=f"{SITE}/councils/cumberland-council?since=2025-03-03",
        items=(
            DecisionItem(
                reference="24 010 158",
                url=_url("24 010 158"),
                organisation="Cumberland Council",
                outcome="Upheld: fault and injustice",
                category="Housing",
                subcategory="Homelessness",
                decision_date=date(2025, 2, 26),
                remedies=(
                    "£700 to Miss R for five months in unsuitable bed and breakfast",
                    "Reconsider her housing application priority within four weeks",
                ),
                summary=(
                    "The council placed Miss R and her two children in bed and breakfast "
                    "for five months, beyond the six-week limit, and did not review it."
                ),
                matched_alerts=("Cumbria housing",),
            ),
            StoryItem(
                headline="Families housed in B&Bs beyond legal limit, watchdog finds",
                titles=(Link("News & Star", "https://news.example/ns/bnb-limit"),),
                earliest_date=date(2025, 3, 2),
                snippet=(
                    Segment("Cumberland Council accepted that families stayed in "),
                    Segment("bed and breakfast", highlighted=True),
                    Segment(" longer than the six weeks allowed."),
                ),
                matched_alerts=("Cumbria housing",),
            ),
        ),
    )
    westmorland = CouncilGroup(
        council_name="Westmorland and Furness Council",
        more_url=f"{SITE}/councils/westmorland-and-furness-council?since=2025-03-03",
        items=(
            DecisionItem(
                reference="24 008 921",
                url=_url("24 008 921"),
                organisation="Westmorland and Furness Council",
                outcome="Upheld: fault, no injustice",
                category="Planning",
                subcategory="Enforcement",
                decision_date=date(2025, 2, 21),
                remedies=("Apology to Mr and Mrs T for slow replies",),
                summary=(
                    "The council was slow to answer Mr and Mrs T's enforcement complaint, "
                    "but its decision not to act was one it was entitled to make."
                ),
                matched_alerts=("Cumbria housing",),
            ),
        ),
    )
    return Digest(
        subscriber_email=subscriber_email,
        manage_url=f"{SITE}/manage/sample-token",
        unsubscribe_url=f"{SITE}/unsubscribe/sample-token",
        generated_at=generated_at,
        groups=(norfolk, cumberland, westmorland),
        catch_up=(
            CatchUpLine(
                council_name="Cumberland Council",
                count=38,
                url=f"{SITE}/councils/cumberland-council?backfill=2025-03",
            ),
        ),
        source_health=(
            SourceHealth(
                name="LGSCO",
                newest_item_at=generated_at - timedelta(days=2, hours=3),
                last_success_at=generated_at - timedelta(minutes=48),
                noun="decision",
            ),
            SourceHealth(
                name="Eastern Daily Press feed",
                newest_item_at=generated_at - timedelta(hours=20),
                last_success_at=generated_at - timedelta(minutes=18),
                noun="story",
            ),
            SourceHealth(
                name="News & Star feed",
                newest_item_at=generated_at - timedelta(days=2),
                last_success_at=generated_at - timedelta(hours=20),
                failing=True,
                failing_since=generated_at - timedelta(hours=19),
                noun="story",
            ),
        ),
    )
