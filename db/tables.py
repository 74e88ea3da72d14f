"""Every table, in one place: imported so that SQLModel.metadata knows them all, and named
for the modules that write SQLAlchemy Core against them.

The documents' own tables (db/document_tables.py), the subscribers and the outbox
(db/delivery_tables.py), the sources' runs and health state (db/run_tables.py) are written in
Core and the same objects are named here; code on the paths of `search`, `export` and `status`
imports those modules instead of this one, so it needs neither SQLModel nor the model classes.
"""

from sqlalchemy import Table
from sqlmodel import SQLModel

import db.models_search  # noqa: F401 (DocumentTerms: its table is DOCUMENT_TERMS)
from db.crawl_state import CrawlCheckpoint
from db.delivery_tables import OUTBOX, SUBSCRIBERS
from db.document_tables import (
    DOCUMENT_COUNCILS,
    DOCUMENT_LINKS,
    DOCUMENT_TERMS,
    DOCUMENTS,
    WORD_STEMS,
)
from db.models import (
    DocumentCategory,
    DocumentRevision,
    FetchState,
    NewsBand,
    NewsSignature,
)
from db.models_delivery import (
    Alert,
    AlertChange,
    AlertProgress,
    MatchSet,
    SentItem,
)
from db.models_service import JobRun
from db.run_tables import FETCH_RUNS, SOURCE_STATE


def table(model: type[SQLModel]) -> Table:
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table)
    return found


DOCUMENT_REVISIONS = table(DocumentRevision)
DOCUMENT_CATEGORIES = table(DocumentCategory)
FETCH_STATE = table(FetchState)
ALERTS = table(Alert)
ALERT_CHANGES = table(AlertChange)
MATCH_SETS = table(MatchSet)
ALERT_PROGRESS = table(AlertProgress)
SENT_ITEMS = table(SentItem)
JOB_RUNS = table(JobRun)
CRAWL_CHECKPOINTS = table(CrawlCheckpoint)
NEWS_SIGNATURES = table(NewsSignature)
NEWS_BANDS = table(NewsBand)

__all__ = [
    "ALERTS", "ALERT_CHANGES", "ALERT_PROGRESS", "CRAWL_CHECKPOINTS", "DOCUMENTS",
    "DOCUMENT_CATEGORIES", "DOCUMENT_COUNCILS", "DOCUMENT_LINKS", "DOCUMENT_REVISIONS",
    "DOCUMENT_TERMS", "FETCH_RUNS", "FETCH_STATE", "JOB_RUNS", "MATCH_SETS", "NEWS_BANDS",
    "NEWS_SIGNATURES", "OUTBOX", "SENT_ITEMS", "SOURCE_STATE", "SUBSCRIBERS", "WORD_STEMS",
    "table",
]  # fmt: skip
