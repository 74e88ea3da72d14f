"""What a source's crawler needs of the HTTP client, as protocols.

Crawlers depend on these rather than on :class:`scraper.fetch.PoliteClient` itself, so that a
crawler states exactly what it reads and a test can hand it anything with that shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class FetchedPage(Protocol):
    """The parts of :class:`scraper.fetch.Response` crawlers read."""

    @property
    def url(self) -> str: ...

    @property
    def content(self) -> bytes: ...

    @property
    def charset(self) -> str | None: ...

    @property
    def not_modified(self) -> bool: ...

    @property
    def moved_to(self) -> str | None: ...


class Fetcher(Protocol):
    """What crawlers need of :class:`scraper.fetch.PoliteClient`."""

    def get(
        self,
        url: str,
        *,
        conditional: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> FetchedPage: ...
