"""LGSCO's ``[sources.lgsco]`` settings and what it is."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from scraper.sources.settings import SourceInfo, SourceSettings, check_http_url


class LgscoConfig(SourceSettings):
    base_url: str = "https://www.lgo.org.uk"
    # An incremental run scans every listing page of decisions dated within this many days.
    window_days: int = Field(120, ge=1, le=3660)
    schedule: str = "interval:3h"
    expect_new_within_days: int = Field(7, ge=1)

    _check_base = field_validator("base_url")(check_http_url)

    @property
    def catch_up_days(self) -> int:
        # what an incremental run rescans: older than that is catch-up
        return self.window_days


INFO = SourceInfo(
    name="lgsco",
    label="LGSCO",
    config_key="lgsco",
    document_kind="decision",
    config_model=LgscoConfig,
    outcomes=("upheld", "not upheld", "closed after initial enquiries", "other"),
    backfills=True,
    # The oldest decisions the site publishes carry 2006 references ("06/B/16774").
    earliest=date(2006, 1, 1),
)
