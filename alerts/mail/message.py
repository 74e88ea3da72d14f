"""Building a digest email: multipart/alternative with the headers bulk mail needs.

Every user-supplied value that lands in a header (addresses, display names, the subject, which
may carry an alert name) is checked first: a CR, LF or any other control character raises
SubscriptionError naming the field, so a header can never be injected. The standard library
would also refuse some of these, but with a message that names no field and only for CR/LF.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import cast

from cwerrors import SubscriptionError

# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: all of them either
# end a header line somewhere or have no business in one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# RFC 5322 dot-atom local part; quoted local parts are legal but almost always a typo or an
# attack here, so they are refused with a clear message.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")

MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit less the angle brackets
MAX_LOCAL_LENGTH = 64

_HEADERS = HeaderRegistry()


def check_header_value(field: str, value: str) -> str:
    """Return ``value`` unchanged, or raise SubscriptionError if it could inject a header."""
    match = _CONTROL.search(value)
    if match:
        raise SubscriptionError(
            f"{field} contains a line break or control character "
            f"({match.group()!r} at position {match.start()}); header injection refused"
        )
    return value


def _normalise_domain(domain: str, field: str) -> str:
    try:
        # IDNA turns "bücher.example" into the xn-- form every SMTP server accepts.
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise SubscriptionError(f"{field}: invalid domain {domain!r}") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise SubscriptionError(f"{field}: invalid domain {domain!r}")
    if not _TLD.fullmatch(labels[-1]):
        raise SubscriptionError(f"{field}: invalid top-level domain in {domain!r}")
    return ascii_domain


def validate_address(address: str, *, field: str = "address") -> str:
    """Return ``address`` normalised (trimmed, lower case, ASCII domain) or raise.

    The whole address is lower-cased: people type "Mrs.B@Example.org" one day and
    "mrs.b@example.org" the next and expect one subscription; no mainstream mail server treats
    local parts as case-sensitive.
    """
    check_header_value(field, address)
    candidate = address.strip()
    if not candidate:
        raise SubscriptionError(f"{field} is empty")
    if "<" in candidate or ">" in candidate or " " in candidate:
        raise SubscriptionError(
            f"{field} must be a bare address like name@example.org, not {candidate!r}"
        )
    local, at, domain = candidate.rpartition("@")
    if not at or not local or not domain:
        raise SubscriptionError(f"{field} {candidate!r} is not an email address (no '@')")
    if not local.isascii():
        raise SubscriptionError(f"{field}: non-ASCII before the '@' is not supported")
    if len(local) > MAX_LOCAL_LENGTH or not _LOCAL.fullmatch(local):
        raise SubscriptionError(f"{field}: invalid part before the '@' in {candidate!r}")
    normalised = f"{local.lower()}@{_normalise_domain(domain, field)}"
    if len(normalised) > MAX_ADDRESS_LENGTH:
        raise SubscriptionError(f"{field} is longer than {MAX_ADDRESS_LENGTH} characters")
    return normalised


def _parse_mailbox(value: str, field: str) -> Address:
    """Parse ``Name <addr>`` or a bare address into an Address (display name encoded later)."""
    check_header_value(field, value)
    # The header parser, unlike parseaddr, reports a second address instead of dropping it.
    parsed = _HEADERS("From", value)
    addresses = cast(AddressHeader, parsed).addresses
    if len(addresses) != 1 or parsed.defects:
        raise SubscriptionError(f"{field} must be exactly one address, not {value!r}")
    mailbox = addresses[0]
    local, _, domain = validate_address(mailbox.addr_spec, field=field).partition("@")
    return Address(display_name=mailbox.display_name, username=local, domain=domain)


def make_message_id(key: str, domain: str) -> str:
    """Return a Message-ID that is the same every time the same send is attempted.

    ``key`` is the send's idempotency key (for example the outbox row's key): retrying the same
    row gives the same Message-ID, so receiving servers and clients can collapse duplicates.
    """
    if not key:
        raise ValueError("message id key must not be empty")
    domain = _normalise_domain(check_header_value("message id domain", domain), "domain")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _check_unsubscribe_url(url: str) -> str:
    check_header_value("unsubscribe_url", url)
    # RFC 8058: the one-click target must be HTTPS; <, > and spaces would break the header.
    # Plain http is accepted only for a service on this machine (the embedded default).
    if any(c in url for c in "<>, ") or not (
        url.startswith("https://") or _LOOPBACK_HTTP.match(url)
    ):
        raise SubscriptionError(f"unsubscribe_url must be an https URL, not {url!r}")
    return url


_LOOPBACK_HTTP = re.compile(r"http://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?/")


def _mailto(value: str) -> str:
    check_header_value("unsubscribe_mailto", value)
    target = value.removeprefix("mailto:")
    address, _, query = target.partition("?")
    validate_address(address, field="unsubscribe_mailto")
    if any(c in query for c in "<>, "):
        raise SubscriptionError(f"unsubscribe_mailto has an unsafe query: {value!r}")
    return f"mailto:{target}"


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None,
    date: datetime,
    list_id: str | None = None,
) -> EmailMessage:
    """Return a ready-to-send message: text, plus HTML as its alternative when given.

    ``sender`` may carry a display name ("Councilwatch <alerts@example.org>"); ``to`` is the
    subscriber's bare address. ``list_id`` defaults to one derived from the sender's domain,
    which lets mail clients offer their own unsubscribe button.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")
    from_address = _parse_mailbox(sender, "sender")
    to_address = validate_address(to, field="to")
    check_header_value("subject", subject)
    check_header_value("message_id", message_id)
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id):
        raise ValueError(f"message_id must look like <id@domain>, not {message_id!r}")
    targets = [f"<{_check_unsubscribe_url(unsubscribe_url)}>"]
    if unsubscribe_mailto:
        targets.append(f"<{_mailto(unsubscribe_mailto)}>")
    if list_id is None:
        list_id = f"Councilwatch digests <digests.{from_address.domain}>"
    check_header_value("list_id", list_id)

    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = to_address
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Id"] = list_id
    msg["List-Unsubscribe"] = ", ".join(targets)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: tells well-behaved auto-responders not to answer; the Microsoft header does
    # the same for Exchange out-of-office replies, which ignore Auto-Submitted.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    # Text: quoted-printable keeps it readable in the raw source (the library would pick
    # base64 for any short body with a "£"). HTML: base64, because inlined CSS makes lines too
    # long for 8bit and the stdlib's pure-Python quoted-printable encoder costs ~3 ms per
    # digest, a third of the whole send; base64 runs in C and is as common in real mail.
    msg.set_content(text, cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="base64")
    return msg
