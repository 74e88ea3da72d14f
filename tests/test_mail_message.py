"""Building digest messages: structure, bulk-mail headers, addresses and header injection."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.mail.message import (
    build_message,
    check_header_value,
    make_message_id,
    validate_address,
)
from cwerrors import SubscriptionError
from tests import rawmail

WHEN = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def message_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "sender": "Councilwatch <alerts@councilwatch.example>",
        "to": "mrs.b@example.org",
        "subject": "1 decision: Norfolk County Council",
        "text": "Upheld. £700 to Mrs B.",
        "html": "<p>Upheld. £700 to Mrs B.</p>",
        "message_id": make_message_id("outbox-17", "councilwatch.example"),
        "unsubscribe_url": "https://councilwatch.example/unsubscribe/tok",
        "unsubscribe_mailto": "unsubscribe+tok@councilwatch.example",
        "date": WHEN,
    }
    kwargs.update(overrides)
    return kwargs


def test_multipart_alternative_with_text_first_and_html_second() -> None:
    msg = build_message(**message_kwargs()).parse()
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().strip() == "Upheld. £700 to Mrs B."
    assert parts[1].get_content().strip() == "<p>Upheld. £700 to Mrs B.</p>"
    assert [p["Content-Transfer-Encoding"] for p in parts] == ["quoted-printable", "base64"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]


def test_text_only_when_no_html() -> None:
    msg = build_message(**message_kwargs(html=None))
    assert msg.parse().get_content_type() == "text/plain"
    assert rawmail.header(msg.data, "MIME-Version") == "1.0"


def test_bulk_mail_headers_as_raw_bytes() -> None:
    data = build_message(**message_kwargs()).data
    rawmail.check(data)
    assert rawmail.header(data, "From") == "Councilwatch <alerts@councilwatch.example>"
    assert rawmail.header(data, "To") == "mrs.b@example.org"
    assert rawmail.header(data, "Message-ID") == make_message_id(
        "outbox-17", "councilwatch.example"
    )
    assert parsedate_to_datetime(rawmail.header(data, "Date")) == WHEN
    assert rawmail.header(data, "Auto-Submitted") == "auto-generated"
    assert rawmail.header(data, "List-Unsubscribe") == (
        "<https://councilwatch.example/unsubscribe/tok>, "
        "<mailto:unsubscribe+tok@councilwatch.example>"
    )
    assert rawmail.header(data, "List-Id") == "Councilwatch digests <digests.councilwatch.example>"
    assert b"List-Unsubscribe: <https://councilwatch.example/unsubscribe/tok>" in data


def test_a_long_unsubscribe_header_folds_after_the_comma_only() -> None:
    url = "https://councilwatch.example/unsubscribe/" + "Ab-_9" * 30  # a 190-char signed token
    data = build_message(**message_kwargs(unsubscribe_url=url)).data
    rawmail.check(data)
    [(_, value, lines)] = [h for h in rawmail.headers(data) if h[0] == "List-Unsubscribe"]
    assert lines == [
        f"List-Unsubscribe: <{url}>,".encode(),
        b" <mailto:unsubscribe+tok@councilwatch.example>",
    ]
    assert value == f"<{url}>, <mailto:unsubscribe+tok@councilwatch.example>"


def test_a_non_ascii_url_is_percent_encoded_never_an_encoded_word() -> None:
    data = build_message(
        **message_kwargs(unsubscribe_url="https://councilwatch.example/désabonner/tok")
    ).data
    rawmail.check(data)
    assert rawmail.header(data, "List-Unsubscribe").startswith(
        "<https://councilwatch.example/d%C3%A9sabonner/tok>"
    )


def test_non_ascii_subject_and_display_name_are_encoded_words_that_decode_back() -> None:
    subject = "2 decisions: Ynys Môn County Council and Cyngor Gwynedd — £1,250 to Mr “C” " * 2
    msg = build_message(
        **message_kwargs(subject=subject, sender="Cyngor Môn Alerts <alerts@councilwatch.example>")
    )
    rawmail.check(msg.data)
    for name, _, lines in rawmail.headers(msg.data):
        assert all(len(line) <= 78 for line in lines), name
    raw_subject = rawmail.header(msg.data, "Subject")
    assert raw_subject.startswith("=?utf-8?q?") and "Môn" not in raw_subject
    assert rawmail.header(msg.data, "From").endswith(" <alerts@councilwatch.example>")
    parsed = msg.parse()  # the decoding side: what the client shows
    assert str(parsed["Subject"]) == " ".join(subject.split())
    assert parsed["From"].addresses[0].display_name == "Cyngor Môn Alerts"


def test_an_ascii_subject_stays_plain_and_folds_at_spaces() -> None:
    subject = "12 decisions and 30 stories: Norfolk County Council, Suffolk County Council, " * 3
    data = build_message(**message_kwargs(subject=subject)).data
    rawmail.check(data)
    [(_, value, lines)] = [h for h in rawmail.headers(data) if h[0] == "Subject"]
    assert len(lines) > 1 and all(len(line) <= 78 for line in lines)
    assert value == " ".join(subject.split())


def test_display_name_with_specials_is_quoted() -> None:
    data = build_message(
        **message_kwargs(sender='"Councilwatch: Norfolk, Suffolk" <alerts@councilwatch.example>')
    ).data
    assert rawmail.header(data, "From") == (
        '"Councilwatch: Norfolk, Suffolk" <alerts@councilwatch.example>'
    )


def test_bodies_are_7bit_and_lines_fit_whatever_the_text() -> None:
    long_line = "Councils named: " + "Norfolk, Suffolk, Cumbria; " * 80
    msg = build_message(**message_kwargs(text=long_line + "\n. a dot line\n", html=long_line))
    rawmail.check(msg.data)
    plain, html = (p.get_content() for p in msg.parse().iter_parts())
    assert plain.replace("\r\n", "\n") == long_line + "\n. a dot line\n"
    assert html == long_line + "\n"


def test_mailto_is_optional_and_accepts_a_mailto_uri() -> None:
    without = build_message(**message_kwargs(unsubscribe_mailto=None))
    assert without["List-Unsubscribe"] == "<https://councilwatch.example/unsubscribe/tok>"
    with_uri = build_message(
        **message_kwargs(unsubscribe_mailto="mailto:stop@councilwatch.example?subject=stop")
    )
    assert "<mailto:stop@councilwatch.example?subject=stop>" in str(with_uri["List-Unsubscribe"])


def test_message_id_is_stable_per_key_and_distinct_across_keys() -> None:
    first = make_message_id("outbox-17", "councilwatch.example")
    assert first == make_message_id("outbox-17", "councilwatch.example")
    assert first != make_message_id("outbox-18", "councilwatch.example")
    assert first.startswith("<") and first.endswith("@councilwatch.example>")


def test_one_click_unsubscribe_must_be_https() -> None:
    with pytest.raises(SubscriptionError, match="https"):
        build_message(**message_kwargs(unsubscribe_url="http://councilwatch.example/u/tok"))


def test_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_message(**message_kwargs(date=datetime(2025, 3, 4, 8, 0)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "mrs.b@example.org\r\nBcc: everyone@example.net"),
        ("to", "mrs.b@example.org\nBcc: everyone@example.net"),
        ("subject", "Norfolk SEND\r\nBcc: everyone@example.net"),
        ("subject", "alert\x00name"),
        ("subject", "alert\u2028name"),
        ("sender", "Council\rwatch <alerts@councilwatch.example>"),
        ("unsubscribe_url", "https://councilwatch.example/u\r\nX-Evil: 1"),
        ("unsubscribe_mailto", "stop@councilwatch.example\nX-Evil: 1"),
        ("list_id", "Digests\n<x.example>"),
    ],
)
def test_header_injection_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(SubscriptionError, match=f"^{field}.*(line break|control)"):
        build_message(**message_kwargs(**{field: value}))


@given(
    st.text(max_size=20),
    st.sampled_from(["\r", "\n", "\x0b", "\x1b", "\x7f", "\x85"]),
    st.text(max_size=20),
)
def test_any_control_character_in_a_header_value_is_refused(
    before: str, control: str, after: str
) -> None:
    with pytest.raises(SubscriptionError, match="alert name"):
        check_header_value("alert name", before + control + after)


def test_plain_unicode_header_values_pass() -> None:
    assert check_header_value("subject", "Café — £700 · “quoted”") == "Café — £700 · “quoted”"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("mrs.b@example.org", "mrs.b@example.org"),
        ("  Mrs.B@Example.ORG ", "mrs.b@example.org"),
        ("first+councils@sub.example.co.uk", "first+councils@sub.example.co.uk"),
        ("b@bücher.example", "b@xn--bcher-kva.example"),
    ],
)
def test_valid_addresses_are_normalised(raw: str, normalised: str) -> None:
    assert validate_address(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("mrs.b", "no '@'"),
        ("@example.org", "no '@'"),
        ("mrs.b@", "no '@'"),
        ("mrs..b@example.org", "before the '@'"),
        (".mrs@example.org", "before the '@'"),
        ('"quoted"@example.org', "before the '@'"),
        ("mrs.b@localhost", "invalid domain"),
        ("mrs.b@-bad-.example", "invalid domain"),
        ("mrs.b@example.123", "top-level"),
        ("Mrs B <mrs.b@example.org>", "bare address"),
        ("a@b.org, c@d.org", "bare address"),
        ("mrs.b@exa mple.org", "bare address"),
        ("bé@example.org", "non-ASCII"),
        ("a" * 65 + "@example.org", "before the '@'"),
    ],
)
def test_invalid_addresses_give_a_clear_error(raw: str, reason: str) -> None:
    with pytest.raises(SubscriptionError, match=reason):
        validate_address(raw)


def test_two_senders_in_one_sender_field_are_refused() -> None:
    with pytest.raises(SubscriptionError, match="exactly one address"):
        build_message(**message_kwargs(sender="a@councilwatch.example, b@evil.example"))


def test_plain_http_unsubscribe_only_for_a_service_on_this_machine() -> None:
    local = build_message(**message_kwargs(unsubscribe_url="http://127.0.0.1:8080/u/tok"))
    assert str(local["List-Unsubscribe"]).startswith("<http://127.0.0.1:8080/u/tok>")
    with pytest.raises(SubscriptionError, match="https"):
        build_message(**message_kwargs(unsubscribe_url="http://127.0.0.1.evil.example/u/tok"))


def test_the_html_part_is_base64_in_the_lines_encodebytes_writes() -> None:
    import base64
    import random

    from alerts.mail.message import _base64_part

    rng = random.Random(17)
    texts = [
        "",
        "\n",
        "é" * 57,
        *("".join(rng.choice("ab€\n") for _ in range(n)) for n in range(300)),
    ]
    texts.append("".join(rng.choice("<p>é</p>\n") for _ in range(60_000)))
    for text in texts:
        body = (text if text.endswith("\n") else text + "\n").encode("utf-8")
        assert _base64_part(text) == base64.encodebytes(body).replace(b"\n", b"\r\n")
