"""Mail building blocks: message construction, signed link tokens and transports.

Nothing here touches the database or the clock: callers pass dates, keys and secrets in.
"""

from alerts.mail.message import (
    Mail,
    build_message,
    check_header_value,
    make_message_id,
    validate_address,
)
from alerts.mail.tokens import sign, verify
from alerts.mail.transports import (
    FileTransport,
    SmtpPermanentError,
    SmtpTransientError,
    SmtpTransport,
    Transport,
)

__all__ = [
    "FileTransport",
    "Mail",
    "SmtpPermanentError",
    "SmtpTransientError",
    "SmtpTransport",
    "Transport",
    "build_message",
    "check_header_value",
    "make_message_id",
    "sign",
    "validate_address",
    "verify",
]
