"""Digest emails: the data they hold, their subject line, and their text and HTML rendering.

Pure: no database, no network, no clock. The caller builds a ``Digest`` (its ``generated_at``
is the only "now") and gets back a ``RenderedEmail`` to pass to ``alerts.mail.build_message``.
"""

from alerts.digest.model import (
    AddAlertNotice,
    AlertSummary,
    CatchUpLine,
    Confirmation,
    CouncilGroup,
    DecisionItem,
    Digest,
    DigestItem,
    Link,
    Segment,
    SourceHealth,
    StoryItem,
)
from alerts.digest.render import (
    DEFAULT_CAP,
    DigestRenderer,
    RenderedEmail,
    make_environment,
    render_confirmation,
    render_digest,
)
from alerts.digest.subject import digest_subject

__all__ = [
    "DEFAULT_CAP",
    "AddAlertNotice",
    "AlertSummary",
    "CatchUpLine",
    "Confirmation",
    "CouncilGroup",
    "DecisionItem",
    "Digest",
    "DigestItem",
    "DigestRenderer",
    "Link",
    "RenderedEmail",
    "Segment",
    "SourceHealth",
    "StoryItem",
    "digest_subject",
    "make_environment",
    "render_confirmation",
    "render_digest",
]
