"""The project's one exception tree.

This module imports nothing from the project, so every package (``scraper``, ``alerts``,
``db``) may derive its errors from it without depending on the composition root.

    CouncilwatchError
    ├── ConfigError                 bad or unreadable configuration (names file and key)
    ├── StorageError                database unreachable, bad URL, migration needed
    ├── FetchError                  scraper/fetch.py draws its own subtree below this
    ├── ParseError                  a page no longer looks like what its parser expects
    ├── SourceFault                 a source returned nothing where it always has results
    ├── ShutdownRequested           a long job ended early because the service is stopping
    ├── AlertsError
    │   ├── QueryError              invalid alert query (position and what was expected)
    │   ├── UnknownCouncilError     a council name not in the register (with suggestions)
    │   └── SubscriptionError       invalid address, header injection, unknown token
    └── DeliveryError
        ├── TransientDeliveryError  4xx, connection refused: retry later
        └── PermanentDeliveryError  5xx: record, count towards bouncing
            └── UnsendableMessage   the message itself cannot go (no recipient): record only

The CLI turns any ``CouncilwatchError`` into one line on stderr and a non-zero exit code; no
other layer formats errors for people.
"""

from __future__ import annotations


class CouncilwatchError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(CouncilwatchError):
    """Configuration that cannot be used: the message names the file and key."""


class StorageError(CouncilwatchError):
    """The database cannot be reached or used as configured."""


class FetchError(CouncilwatchError):
    """A URL could not be fetched (see ``scraper.fetch`` for the subtree)."""


class ParseError(CouncilwatchError):
    """A fetched page did not parse; the message names the URL and the missing field."""

    def __init__(self, message: str, *, url: str = "", field: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.field = field


class SourceFault(CouncilwatchError):
    """A source answered, but not with what it always has (empty listing, page shell)."""


class ShutdownRequested(CouncilwatchError):
    """A long job stopped between units of work because the service is shutting down."""

    MESSAGE = "stopped early: the service is shutting down"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class AlertsError(CouncilwatchError):
    """Base of errors in the alerts package."""


class QueryError(AlertsError):
    """An alert query that does not parse."""

    def __init__(self, message: str, *, position: int = 0) -> None:
        super().__init__(message)
        self.position = position


class UnknownCouncilError(AlertsError):
    """A council name that is not in the register."""

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = suggestions or []
        hint = (
            f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        super().__init__(f"unknown council {name!r}{hint}")


class SubscriptionError(AlertsError):
    """A subscription request that cannot be accepted."""


class DeliveryError(CouncilwatchError):
    """Mail could not be delivered."""


class TransientDeliveryError(DeliveryError):
    """Delivery failed in a way that may succeed later."""


class PermanentDeliveryError(DeliveryError):
    """Delivery failed for good (the server rejected the message or address)."""

    #: Whether the failure says something about the recipient's address (a bounce).
    bounce = True


class UnsendableMessage(PermanentDeliveryError):
    """The message cannot be sent as it is (it names no recipient): failed for good, but no
    server refused the address, so it never counts towards marking a subscriber bouncing."""

    bounce = False
