"""The toy source's ``[sources.toy]`` settings and what it is."""

from __future__ import annotations

from pydantic import field_validator

from scraper.sources.base import SourceInfo, SourceSettings, check_http_url


class ToyConfig(SourceSettings):
    base_url: str = "https://toy-ombudsman.invalid"
    schedule: str = "interval:1h"

    _check_base = field_validator("base_url")(check_http_url)


INFO = SourceInfo(
    name="toy",
    label="Toy Ombudsman",
    config_key="toy",
    document_kind="decision",
    config_model=ToyConfig,
    outcomes=("upheld", "not upheld"),
    backfills=False,
)
