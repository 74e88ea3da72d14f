"""The Housing Ombudsman's ``[sources.housing_ombudsman]`` settings and what it is."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from scraper.sources.settings import SourceInfo, SourceSettings, check_http_url


class HousingOmbudsmanConfig(SourceSettings):
    base_url: str = "https://www.housing-ombudsman.org.uk"
    schedule: str = "interval:6h"
    expect_new_within_days: int = Field(14, ge=1)
    # With nothing stored yet, an incremental run reads this many archive pages (ten
    # decisions each) and leaves the rest of the archive to a backfill (--since).
    incremental_max_pages: int = Field(20, ge=1, le=2000)

    _check_base = field_validator("base_url")(check_http_url)

    @property
    def catch_up_days(self) -> int:
        # decisions are published some months after they are decided, like the LGSCO's; the
        # archive has no window of its own to follow
        return 120


INFO = SourceInfo(
    name="housing-ombudsman",
    label="Housing Ombudsman",
    config_key="housing_ombudsman",
    document_kind="decision",
    config_model=HousingOmbudsmanConfig,
    outcomes=("upheld", "not upheld", "closed after initial enquiries"),
    backfills=True,
    # Decisions are published from 2019 (case ids from 2019).
    earliest=date(2019, 1, 1),
)
