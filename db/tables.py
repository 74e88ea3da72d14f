"""Every table, in one place: imported so that SQLModel.metadata knows them all, and named
for the modules that write SQLAlchemy Core against them."""

from sqlalchemy import Table
from sqlmodel import SQLModel

from db.crawl_state import CrawlCheckpoint
from db.models import (
    Document,
    DocumentCategory,
    DocumentCouncil,
    DocumentLink,
    DocumentRevision,
    FetchRun,
    FetchState,
    NewsBand,
    NewsSignature,
)
from db.models_delivery import (
    Alert,
    AlertChange,
    AlertProgress,
    MatchSet,
    OutboxMessage,
    SentItem,
    Subscriber,
)
from db.models_search import DocumentTerms
from db.models_service import JobRun, SourceState


def table(model: type[SQLModel]) -> Table:
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table)
    return found


DOCUMENTS = table(Document)
DOCUMENT_REVISIONS = table(DocumentRevision)
DOCUMENT_COUNCILS = table(DocumentCouncil)
DOCUMENT_CATEGORIES = table(DocumentCategory)
DOCUMENT_TERMS = table(DocumentTerms)
DOCUMENT_LINKS = table(DocumentLink)
FETCH_STATE = table(FetchState)
FETCH_RUNS = table(FetchRun)
SUBSCRIBERS = table(Subscriber)
ALERTS = table(Alert)
ALERT_CHANGES = table(AlertChange)
MATCH_SETS = table(MatchSet)
ALERT_PROGRESS = table(AlertProgress)
SENT_ITEMS = table(SentItem)
OUTBOX = table(OutboxMessage)
JOB_RUNS = table(JobRun)
SOURCE_STATE = table(SourceState)
CRAWL_CHECKPOINTS = table(CrawlCheckpoint)
NEWS_SIGNATURES = table(NewsSignature)
NEWS_BANDS = table(NewsBand)
