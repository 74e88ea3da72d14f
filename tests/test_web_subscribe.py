"""The subscribe form, confirmation, adding an alert by email link: HTTP tests on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from councilwatch.web.security import RateLimit
from db.subscriptions import find_subscriber, subscriptions
from tests.test_web_support import (
    WebHarness,
    confirm,
    csrf,
    form_token,
    link_in,
    make_harness,
    outbox_messages,
    page_text,
    serve,
    subscribe,
)


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def test_form_offers_councils_from_the_register_and_sets_secure_headers(web: WebHarness) -> None:
    page = web.client.get("/")
    assert page.status_code == 200
    assert '<datalist id="council-names">' in page.text
    assert '<option value="Norfolk County Council">' in page.text
    assert '<option value="Breckland Council">' in page.text
    assert "<script" not in page.text
    headers = page.headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in headers  # base_url is http here
    assert "HttpOnly" in headers["set-cookie"] and "SameSite=Lax" in headers["set-cookie"]
    assert web.client.get("/subscribe").text.count('name="council"') >= 3


def test_https_base_url_adds_hsts_and_secure_cookie(database_url: str, tmp_path: Path) -> None:
    harness = make_harness(
        database_url, tmp_path, toml='[web]\nbase_url = "https://cw.example.org"\n'
    )
    page = harness.client.get("/subscribe")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in page.headers["set-cookie"]


def test_subscribing_creates_a_pending_address_and_queues_one_confirmation(
    web: WebHarness,
) -> None:
    response = subscribe(web.client, "Mrs.B@Example.org", query='"school transport"')
    assert response.status_code == 303
    assert response.headers["location"] == "/subscribe/sent"
    assert "Check your email" in web.client.get("/subscribe/sent").text
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None and subscriber.status == "pending"
    [view] = [v for v in subscriptions(web.engine) if v.subscriber.id == subscriber.id]
    [alert] = view.alerts
    assert alert.councils == ["norfolk"]  # the id from the register
    assert alert.query == '"school transport"'
    [mail] = outbox_messages(web)
    assert mail.kind == "confirm" and mail.to_address == "mrs.b@example.org"
    assert link_in(mail, "confirm").startswith("/confirm/")


def test_confirmation_link_shows_a_button_and_the_post_confirms(web: WebHarness) -> None:
    subscribe(web.client)
    path = link_in(outbox_messages(web)[0], "confirm")
    page = web.client.get(path)
    assert page.status_code == 200 and "Confirm and start my alerts" in page.text
    assert page.headers["cache-control"] == "no-store"
    # GET alone changes nothing: mail scanners that prefetch links do not confirm for people.
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "pending"  # type: ignore[union-attr]
    manage = confirm(web, web.client, "mrs.b@example.org")
    assert manage.startswith("/manage/")
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "active"  # type: ignore[union-attr]
    assert "your address is confirmed" in web.client.get(manage + "?confirmed=1").text
    # Following the link again goes straight to the alerts.
    assert web.client.get(path).headers["location"].startswith("/manage/")


def test_bad_forged_and_wrong_purpose_tokens_are_a_plain_404(web: WebHarness) -> None:
    subscribe(web.client)
    good = link_in(outbox_messages(web)[0], "confirm").rsplit("/", 1)[1]
    value, mac = good.split(".")
    forged = f"{value}.{mac[:-2]}{'AA' if not mac.endswith('AA') else 'BB'}"
    for path in (
        "/confirm/nonsense",
        f"/confirm/{forged}",
        f"/manage/{good}",  # a confirm token is not a manage token
        f"/unsubscribe/{good}",
        "/confirm/%C3%A9.%00",
    ):
        response = web.client.get(path)
        assert response.status_code == 404, path
        assert "This link does not work" in response.text
        assert "Traceback" not in response.text


def test_invalid_query_is_explained_with_the_query_language_message(web: WebHarness) -> None:
    response = subscribe(web.client, query="(school transport")
    assert response.status_code == 400
    text = page_text(response.text)
    assert "The keywords do not make sense yet" in text
    assert "position" in text
    assert 'value="(school transport"' in response.text  # what was typed is kept
    assert outbox_messages(web) == []


def test_unknown_council_gets_suggestions_and_an_empty_alert_is_refused(web: WebHarness) -> None:
    response = subscribe(web.client, councils=("Norfok County Council",))
    assert response.status_code == 400
    assert "Did you mean Norfolk County Council" in page_text(response.text)
    response = subscribe(web.client, councils=())
    assert response.status_code == 400
    assert "Choose at least one council, or give some keywords" in page_text(response.text)
    response = subscribe(web.client, "not-an-address")
    assert response.status_code == 400
    assert "Enter an email address" in page_text(response.text)
    assert find_subscriber(web.engine, email="mrs.b@example.org") is None


def test_hostile_input_is_escaped(web: WebHarness) -> None:
    hostile = '<script>alert("x")</script>'
    response = subscribe(
        web.client, f"x{hostile}@example.org", query=f'"{hostile}', extra={"name": hostile}
    )
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text
    response = web.client.get("/documents", params={"q": hostile, "council": hostile})
    assert "<script>" not in response.text


def test_csrf_failures_change_nothing(web: WebHarness) -> None:
    data = {"email": "mrs.b@example.org", "council": "Norfolk County Council"}
    token = form_token(web.client)
    other = web.fresh_client(follow_redirects=False)
    cases = [
        (web.client, {}),  # no token
        (web.client, {"csrf_token": token[:-1] + ("0" if token[-1] != "0" else "1")}),  # altered
        (other, {"csrf_token": token}),  # a token lifted from another browser's page
        (web.fresh_client(cookies={}), {"csrf_token": token}),  # no cookie at all
    ]
    for client, extra in cases:
        response = client.post("/subscribe", data={**data, **extra})
        assert response.status_code == 403
        assert "did not act on it" in response.text
    assert find_subscriber(web.engine, email="mrs.b@example.org") is None
    assert outbox_messages(web) == []


def test_no_address_enumeration(web: WebHarness) -> None:
    """New, pending and confirmed addresses get the very same answer."""
    subscribe(web.client, "active@example.org")
    confirm(web, web.client, "active@example.org")
    subscribe(web.client, "pending@example.org")
    before = {r.to_address for r in outbox_messages(web)}
    answers = []
    for email in ("new@example.org", "pending@example.org", "active@example.org"):
        response = subscribe(web.client, email, councils=("Breckland",))
        follow = web.client.get(response.headers["location"])
        answers.append((response.status_code, response.headers["location"], follow.text))
    assert answers[0] == answers[1] == answers[2]
    assert before == {"active@example.org", "pending@example.org"}


def test_a_confirmed_address_is_asked_before_an_alert_is_added(web: WebHarness) -> None:
    subscribe(web.client, "active@example.org")
    manage = confirm(web, web.client, "active@example.org")
    stranger = web.fresh_client(follow_redirects=False)
    subscribe(stranger, "active@example.org", councils=("Breckland",), frequency="weekly")
    names = [a.name for v in subscriptions(web.engine) for a in v.alerts]
    assert names == ["Norfolk"]  # nothing added yet
    notice = next(r for r in outbox_messages(web) if r.subject.startswith("Add this alert"))
    add = link_in(notice, "add")
    page = web.client.get(add)
    assert page.status_code == 200 and "Add this alert" in page.text
    response = web.client.post(add, data={"csrf_token": csrf(page.text)})
    assert response.status_code == 303
    [view] = [v for v in subscriptions(web.engine) if v.subscriber.email == "active@example.org"]
    assert sorted(a.frequency for a in view.alerts) == ["daily", "weekly"]
    assert "Breckland" in web.client.get(manage).text
    # The same request twice in a day queues one notice.
    subscribe(stranger, "active@example.org", councils=("Breckland",), frequency="weekly")
    assert sum(r.subject.startswith("Add this alert") for r in outbox_messages(web)) == 1


def test_rate_limit_per_address_and_per_client(database_url: str, tmp_path: Path) -> None:
    harness = make_harness(
        database_url,
        tmp_path,
        per_address=RateLimit(limit=2, window_seconds=600),
        per_client=RateLimit(limit=4, window_seconds=600),
    )
    client = harness.client
    assert subscribe(client, "a@example.org").status_code == 303
    assert subscribe(client, "a@example.org").status_code == 303
    limited = subscribe(client, "a@example.org")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many requests" in limited.text
    # Another address from the same client is still fine, until the client limit.
    assert subscribe(client, "b@example.org").status_code == 303
    assert subscribe(client, "c@example.org").status_code == 429
    # The window slides: ten minutes later both limits have room again.
    harness.clock.advance(minutes=11)
    assert subscribe(client, "a@example.org").status_code == 303
