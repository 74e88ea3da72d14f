"""Signed link tokens: round trip, purpose binding, and every way a token can be forged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.mail.tokens import sign, verify
from cwerrors import ConfigError, SubscriptionError

SECRET = b"0123456789abcdef0123456789abcdef"


def test_round_trip_returns_the_value() -> None:
    token = sign(SECRET, "manage", "subscriber-42")
    assert verify(SECRET, "manage", token) == "subscriber-42"


def test_token_is_url_safe() -> None:
    token = sign(SECRET, "unsubscribe", "subscriber-42/alert-7?x=1&y=£")
    assert all(c.isalnum() or c in "-_." for c in token)


@given(st.text(max_size=200))
def test_any_text_value_round_trips(value: str) -> None:
    assert verify(SECRET, "confirm", sign(SECRET, "confirm", value)) == value


def test_manage_token_is_not_an_unsubscribe_token() -> None:
    token = sign(SECRET, "manage", "subscriber-42")
    with pytest.raises(SubscriptionError, match="signature"):
        verify(SECRET, "unsubscribe", token)


def test_other_secret_is_rejected() -> None:
    token = sign(b"another-secret-of-32-bytes-long!", "manage", "subscriber-42")
    with pytest.raises(SubscriptionError):
        verify(SECRET, "manage", token)


def test_swapped_value_is_rejected() -> None:
    mine = sign(SECRET, "manage", "subscriber-42")
    theirs = sign(SECRET, "manage", "subscriber-43")
    forged = theirs.split(".")[0] + "." + mine.split(".")[1]
    with pytest.raises(SubscriptionError, match="signature"):
        verify(SECRET, "manage", forged)


@pytest.mark.parametrize(
    "garbled",
    ["", "no-dot-here", ".", "abc.", ".abc", "a b.c", "abc.d*f", "é.abc", "YWJj.YWJj"],
)
def test_garbled_tokens_raise_subscription_error(garbled: str) -> None:
    with pytest.raises(SubscriptionError, match="invalid link token"):
        verify(SECRET, "manage", garbled)


def test_extra_characters_do_not_pass_as_the_clean_token() -> None:
    token = sign(SECRET, "manage", "subscriber-42")
    with pytest.raises(SubscriptionError):
        verify(SECRET, "manage", token + "!")


def test_short_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        sign(b"short", "manage", "x")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _respellings(token: str) -> list[str]:
    """The same bytes spelt other ways base64 decoders accept."""
    value, mac = token.split(".")
    # A 32-byte MAC is 43 symbols with 2 spare bits in the last: set one, same bytes.
    spare_bit = _ALPHABET[_ALPHABET.index(mac[-1]) + 1]
    return [
        f"{value}.{mac}=",
        f"{value}.{mac}==",
        f"{value}=.{mac}",
        f"{value}.{mac[:-1]}{spare_bit}",
    ]


@pytest.mark.parametrize("value", ["7.abc", "subscriber-42", "£" * 5, "x" * 31])
def test_only_the_canonical_spelling_verifies(value: str) -> None:
    token = sign(SECRET, "manage", value)
    assert verify(SECRET, "manage", token) == value
    for other in _respellings(token):
        assert other != token
        with pytest.raises(SubscriptionError):
            verify(SECRET, "manage", other)


def test_plus_and_slash_spellings_are_refused() -> None:
    # Find a token whose encoding uses - or _, so +/ spell the same bytes another way.
    token = next(
        t for i in range(200) if ("-" in (t := sign(SECRET, "manage", f"s{i}")) or "_" in t)
    )
    with pytest.raises(SubscriptionError):
        verify(SECRET, "manage", token.replace("-", "+").replace("_", "/"))
