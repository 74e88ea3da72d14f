"""Wiring for fetching: the scraper's client with its state kept in the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Engine

from councilwatch.config import HttpConfig
from db.fetch_state import DbFetchState, StoredUrlState
from scraper.fetch import ClientOptions, PoliteClient
from scraper.fetch_state import UrlState


class DatabaseFetchStateStore:
    """Adapts db.fetch_state to scraper.fetch_state.FetchStateStore."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._db = DbFetchState(engine, clock)

    def get_state(self, url: str) -> UrlState | None:
        stored = self._db.load(url)
        return UrlState(**asdict(stored)) if stored is not None else None

    def put_state(self, url: str, state: UrlState) -> None:
        self._db.save(url, StoredUrlState(**asdict(state)))


def client_options(http: HttpConfig) -> ClientOptions:
    return ClientOptions(
        user_agent=http.user_agent,
        min_interval_seconds=http.min_interval_seconds,
        timeout_seconds=http.timeout_seconds,
        max_response_bytes=http.max_response_bytes,
        max_attempts=http.max_attempts,
        obey_robots=http.obey_robots,
    )


def make_client(http: HttpConfig, engine: Engine, clock: Callable[[], datetime]) -> PoliteClient:
    return PoliteClient(client_options(http), state=DatabaseFetchStateStore(engine, clock))
