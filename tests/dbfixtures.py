"""Database fixtures: every storage test runs on SQLite, and on PostgreSQL when
COUNCILWATCH_TEST_DATABASE_URL is set (CI sets it; there a skip is a failure)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, event, text

from db import migrate
from db.engine import make_engine

PG_ENV = "COUNCILWATCH_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def skip_without_postgres() -> None:
    if postgres_url() is None:
        reason = f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://user@host/db"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run PostgreSQL tests: {reason}")
        pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def fresh_database_url(dialect: str, tmp_path: object) -> Iterator[str]:
    """A migrated, empty database of one dialect; yields its URL and cleans up."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path}/test.db"
        migrate.upgrade(make_engine(url))
        yield url
        return
    skip_without_postgres()
    base = postgres_url()
    assert base is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = _with_search_path(base, schema)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: object) -> Iterator[Engine]:
    for url in fresh_database_url("sqlite", tmp_path):
        engine = make_engine(url)
        yield engine
        engine.dispose()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The text of every statement ``engine`` sends to the database inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
