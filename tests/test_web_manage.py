"""Managing alerts and unsubscribing, including the RFC 8058 one-click POST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db.subscriptions import find_subscriber, subscriptions, update_alert
from tests.test_web_support import (
    WebHarness,
    confirm,
    csrf,
    link_in,
    list_unsubscribe,
    outbox_messages,
    page_text,
    serve,
    subscribe,
)


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def alerts_of(web: WebHarness, email: str) -> list:  # type: ignore[type-arg]
    [view] = [
        v for v in subscriptions(web.engine, include_deleted=True) if v.subscriber.email == email
    ]
    return view.alerts


def confirmed(web: WebHarness, email: str = "mrs.b@example.org", **kwargs: object) -> str:
    subscribe(web.client, email, **kwargs)  # type: ignore[arg-type]
    return confirm(web, web.client, email)


def act(web: WebHarness, manage: str, alert_id: int, **data: str) -> None:
    page = web.client.get(manage)
    response = web.client.post(
        f"{manage}/alerts/{alert_id}", data={"csrf_token": csrf(page.text), **data}
    )
    assert response.status_code == 303, response.text


def test_manage_lists_alerts_and_pauses_resumes_and_changes_frequency(web: WebHarness) -> None:
    manage = confirmed(web, query='"school transport" -parking')
    page = web.client.get(manage)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page_text(page.text)
    assert "Norfolk County Council" in text and '"school transport" -parking' in text
    [alert] = alerts_of(web, "mrs.b@example.org")
    act(web, manage, alert.id, action="pause")
    assert alerts_of(web, "mrs.b@example.org")[0].paused is True
    assert "Paused" in web.client.get(manage).text
    act(web, manage, alert.id, action="resume")
    assert alerts_of(web, "mrs.b@example.org")[0].paused is False
    act(web, manage, alert.id, action="frequency", frequency="weekly")
    assert alerts_of(web, "mrs.b@example.org")[0].frequency == "weekly"
    # An unknown frequency or action changes nothing.
    page = web.client.get(manage)
    response = web.client.post(
        f"{manage}/alerts/{alert.id}",
        data={"csrf_token": csrf(page.text), "action": "frequency", "frequency": "hourly"},
    )
    assert response.status_code == 400
    assert alerts_of(web, "mrs.b@example.org")[0].frequency == "weekly"


def test_edit_checks_the_form_and_saves(web: WebHarness) -> None:
    manage = confirmed(web)
    [alert] = alerts_of(web, "mrs.b@example.org")
    edit = f"{manage}/alerts/{alert.id}/edit"
    page = web.client.get(edit)
    assert 'value="Norfolk County Council"' in page.text
    token = csrf(page.text)
    bad = web.client.post(edit, data={"csrf_token": token, "council": "Breckland", "query": "a OR"})
    assert bad.status_code == 400
    assert "The keywords do not make sense yet" in page_text(bad.text)
    good = web.client.post(
        edit,
        data={
            "csrf_token": token,
            "council": ["Breckland", "Norfolk County Council"],
            "county_wide": "on",
            "kind": "decision",
            "outcome": "upheld",
            "frequency": "immediate",
            "name": "Norfolk, all of it",
        },
    )
    assert good.status_code == 303
    [changed] = alerts_of(web, "mrs.b@example.org")
    assert changed.councils == ["breckland"] and changed.counties == ["norfolk"]
    assert (changed.kinds, changed.outcomes) == (["decision"], ["upheld"])
    assert (changed.frequency, changed.name) == ("immediate", "Norfolk, all of it")


def test_delete_one_alert_and_unsubscribe_from_everything(web: WebHarness) -> None:
    manage = confirmed(web)
    [alert] = alerts_of(web, "mrs.b@example.org")
    act(web, manage, alert.id, action="delete")
    assert alerts_of(web, "mrs.b@example.org")[0].deleted_at is not None
    assert "You have no alerts" in web.client.get(manage).text
    page = web.client.get(manage)
    response = web.client.post(f"{manage}/unsubscribe", data={"csrf_token": csrf(page.text)})
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "unsubscribed"  # type: ignore[union-attr]


def test_someone_elses_alert_and_forged_manage_tokens_are_404(web: WebHarness) -> None:
    manage = confirmed(web)
    confirmed(web, "mr.c@example.org")
    [theirs] = alerts_of(web, "mr.c@example.org")
    page = web.client.get(manage)
    response = web.client.post(
        f"{manage}/alerts/{theirs.id}", data={"csrf_token": csrf(page.text), "action": "pause"}
    )
    assert response.status_code == 404
    assert web.client.get(f"{manage}/alerts/{theirs.id}/edit").status_code == 404
    assert alerts_of(web, "mr.c@example.org")[0].paused is False
    assert web.client.get(manage[:-3] + "xyz").status_code == 404
    assert web.client.get("/manage/").status_code == 404


def test_manage_actions_need_csrf(web: WebHarness) -> None:
    manage = confirmed(web)
    [alert] = alerts_of(web, "mrs.b@example.org")
    assert (
        web.client.post(f"{manage}/alerts/{alert.id}", data={"action": "pause"}).status_code == 403
    )
    assert web.client.post(f"{manage}/unsubscribe", data={}).status_code == 403
    assert alerts_of(web, "mrs.b@example.org")[0].paused is False
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "active"  # type: ignore[union-attr]


def unsubscribe_path(web: WebHarness, email: str) -> str:
    row = next(r for r in outbox_messages(web) if r.to_address == email)
    return list_unsubscribe(row)


def test_one_click_post_unsubscribes_without_cookies_or_csrf(web: WebHarness) -> None:
    confirmed(web)
    path = unsubscribe_path(web, "mrs.b@example.org")
    mail_client = web.fresh_client(cookies={})
    response = mail_client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None and subscriber.status == "unsubscribed"
    assert all(a.deleted_at is not None for a in alerts_of(web, "mrs.b@example.org"))
    # Doing it again is harmless, and the GET page says it is done.
    assert mail_client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert "We no longer send alerts" in web.client.get(path).text


def test_unsubscribe_page_button_works_and_other_posts_need_csrf(web: WebHarness) -> None:
    confirmed(web)
    path = unsubscribe_path(web, "mrs.b@example.org")
    page = web.client.get(path)
    assert page.status_code == 200 and "Unsubscribe from everything" in page.text
    assert web.client.post(path, data={"List-Unsubscribe": "Yes"}).status_code == 403
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "active"  # type: ignore[union-attr]
    response = web.client.post(path, data={"csrf_token": csrf(page.text)})
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "unsubscribed"  # type: ignore[union-attr]


def test_links_stop_working_after_unsubscribing_and_subscribing_again(web: WebHarness) -> None:
    manage = confirmed(web)
    old_unsubscribe = unsubscribe_path(web, "mrs.b@example.org")
    web.client.post(old_unsubscribe, data={"List-Unsubscribe": "One-Click"})
    subscribe(web.client, "mrs.b@example.org")
    assert web.client.get(manage).status_code == 404
    assert (
        web.client.post(old_unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    )
    assert find_subscriber(web.engine, email="mrs.b@example.org").status == "pending"  # type: ignore[union-attr]


def test_unsubscribing_retires_the_old_manage_and_confirm_links(web: WebHarness) -> None:
    manage = confirmed(web)
    row = next(r for r in outbox_messages(web) if r.to_address == "mrs.b@example.org")
    old_confirm = link_in(row, "confirm")
    path = unsubscribe_path(web, "mrs.b@example.org")
    one_click = web.fresh_client(cookies={})
    assert one_click.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    for old in (manage, old_confirm):
        page = web.client.get(old)
        assert page.status_code == 404, old
        assert "This link does not work" in page.text
        assert 'href="/subscribe"' in page.text  # a way to subscribe again
    page = web.client.get("/subscribe")
    response = web.client.post(old_confirm, data={"csrf_token": csrf(page.text)})
    assert response.status_code == 404
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None and subscriber.status == "unsubscribed"
    # The same email's unsubscribe link still says it is done, and changes nothing.
    assert "We no longer send alerts" in web.client.get(path).text
    assert web.client.get(f"{manage}/alerts/1/edit").status_code == 404


def test_an_alert_that_cannot_be_matched_says_so_on_the_manage_page(web: WebHarness) -> None:
    manage = confirmed(web)
    [alert] = alerts_of(web, "mrs.b@example.org")
    # Saved before the query limits existed: the index refuses it.
    update_alert(web.engine, alert.id, query="-" * 200 + "respite OR care")
    text = page_text(web.client.get(manage).text)
    assert "This alert cannot find anything as it is" in text
    assert "too deeply nested at position 10" in text
    update_alert(web.engine, alert.id, query="respite")
    assert "cannot find anything" not in web.client.get(manage).text
