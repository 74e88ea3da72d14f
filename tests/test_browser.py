"""End to end in headless Chromium: subscribe, confirm from the email, change frequency,
one-click unsubscribe; and screenshots of the main pages at phone width.

Drives Debian's chromium through chromedriver with selenium (a dev dependency). Skipped when
either is missing on a workstation; under CI=true a missing browser is a failure, because this
test is the proof that a person can do all of it from a phone.

Screenshots go to tmp_path, or to $COUNCILWATCH_TEST_SCREENSHOTS when set (the committed ones
under docs/screenshots/ are made that way).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from alerts.mail.transports import SmtpTransport
from councilwatch.mailer import send_outbox
from councilwatch.runtime import Runtime
from councilwatch.web import create_app
from db import migrate
from db.engine import make_engine
from db.subscriptions import find_subscriber, subscriptions
from tests.runtimes import make_runtime
from tests.smtpd import SmtpTestServer, make_certificate
from tests.test_web_support import Clock, decision, store, story, text_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE_WIDTH, PHONE_HEIGHT = 390, 844
CI_APT = "apt-get install -y chromium chromium-driver"


def _browser_or_skip() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        driver = None
    if chromium and driver:
        return chromium, driver
    reason = f"needs headless Chromium, chromedriver and selenium ({CI_APT})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveSite:
    base: str
    runtime: Runtime


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LiveSite]:
    port = _free_port()
    url = f"sqlite:///{tmp_path}/site.db"
    migrate.upgrade(make_engine(url))
    base = f"http://127.0.0.1:{port}"
    runtime = make_runtime(url, tmp_path, now=Clock(), toml=f'[web]\nbase_url = "{base}"\n')
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield LiveSite(base, runtime)
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.close()


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpTestServer]:
    """tests.smtpd's plain server (no TLS, no AUTH), started here rather than imported."""
    server = SmtpTestServer("none", *make_certificate(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={PHONE_WIDTH},{PHONE_HEIGHT}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(20)
    # A phone's viewport, whatever the window manager does with the window size.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": PHONE_HEIGHT, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, directory: Path, name: str) -> Path:
    """A full-page PNG at phone width (selenium's own screenshot stops at the viewport)."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": PHONE_WIDTH, "height": height, "scale": 1},
        },
    )
    path = directory / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def click_and_wait(driver: Any, element: Any) -> None:
    """Click a submit button and wait until the next page has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_: Any) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:
            # Stale, or Chromium 156's "Node with given id does not belong to the document",
            # which selenium's staleness_of does not expect (it failed CI-like runs here).
            return True
        return False

    wait = WebDriverWait(driver, 15)
    wait.until(replaced)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _shots_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get("COUNCILWATCH_TEST_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _link(text: str, kind: str) -> str:
    found = re.search(rf"https?://\S+/{kind}/[A-Za-z0-9_\-.]+", text)
    assert found, f"no /{kind}/ link in:\n{text}"
    return found.group(0)


def _seed(site: LiveSite) -> dict[str, int]:
    class Harness:  # the two attributes store() reads
        engine = site.runtime.migrated_engine()
        runtime = site.runtime
        clock = site.runtime.now

    return store(
        Harness(),  # type: ignore[arg-type]
        decision(
            "25 004 112",
            title="Norfolk County Council delayed Master K's education, health and care plan",
            summary="The council took 31 weeks to issue the plan. It agreed to apologise to "
            "Mrs K and pay £1,200 for the education her son missed.",
            extra={
                "remedies": {
                    "apology": True,
                    "payments": [{"amount_pence": 120000, "recipient": "Mrs K"}],
                    "service_improvements": True,
                }
            },
        ),
        decision(
            "25 003 870",
            title="Breckland Council handled a housing application properly",
            organisation="Breckland Council",
            category="Housing",
            outcome="not upheld",
            summary="Mr L said the council placed him in the wrong band. We found no fault.",
        ),
        story(
            "school-buses",
            title="Families in Breckland still waiting for school bus passes",
            summary="Norfolk County Council says a new booking system caused the delay.",
        ),
    )


def test_subscribe_confirm_change_frequency_and_unsubscribe_on_a_phone(
    site: LiveSite, browser: Any, smtp_sink: SmtpTestServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shots = _shots_dir(tmp_path)
    ids = _seed(site)
    engine = site.runtime.migrated_engine()

    # 1. Subscribe with the form, as a person would.
    browser.get(f"{site.base}/")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(browser, shots, "subscribe")
    browser.find_element(By.ID, "email").send_keys("mrs.k@example.org")
    browser.find_element(By.ID, "council-1").send_keys("Norfolk County Council")
    browser.find_element(By.ID, "query").send_keys('"care plan" OR "school transport"')
    browser.find_element(By.CSS_SELECTOR, "input[name=frequency][value=daily]").click()
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Check your email"
    screenshot(browser, shots, "check-your-email")

    # 2. The service sends the queued confirmation; the test SMTP server receives it.
    transport = SmtpTransport(smtp_sink.host, smtp_sink.port, security="none", timeout=10)
    assert send_outbox(site.runtime, transport).sent == 1
    [message] = smtp_sink.messages
    assert message["To"] == "mrs.k@example.org"
    confirm_url = _link(text_of(message), "confirm")
    assert confirm_url.startswith(site.base)

    # 3. Follow the link from the email and press the button.
    browser.get(confirm_url)
    screenshot(browser, shots, "confirm")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    assert "your address is confirmed" in browser.find_element(By.CSS_SELECTOR, ".panel").text
    subscriber = find_subscriber(engine, email="mrs.k@example.org")
    assert subscriber is not None and subscriber.status == "active"
    screenshot(browser, shots, "manage")

    # 4. Change how often, on the manage page.
    Select(browser.find_element(By.CSS_SELECTOR, "select[name=frequency]")).select_by_value(
        "weekly"
    )
    click_and_wait(
        browser, browser.find_element(By.XPATH, "//button[normalize-space()='Save how often']")
    )
    assert "Your changes are saved" in browser.find_element(By.CSS_SELECTOR, ".panel").text
    [view] = [v for v in subscriptions(engine) if v.subscriber.email == "mrs.k@example.org"]
    assert [a.frequency for a in view.alerts] == ["weekly"]

    # 5. Browse what has been collected.
    browser.get(f"{site.base}/documents")
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.result")) == 3
    screenshot(browser, shots, "documents")
    browser.get(f"{site.base}/documents/{ids['25 004 112']}")
    assert "£1,200.00" in browser.find_element(By.CSS_SELECTOR, ".remedies").text
    screenshot(browser, shots, "document")

    # 6. The mail client's one-click unsubscribe (RFC 8058): a POST with no cookies.
    header = str(message["List-Unsubscribe"])
    unsubscribe_url = _link(header, "unsubscribe")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    browser.get(unsubscribe_url)
    screenshot(browser, shots, "unsubscribe")
    response = httpx.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert response.status_code == 200 and not response.cookies.get("session")
    subscriber = find_subscriber(engine, email="mrs.k@example.org")
    assert subscriber is not None and subscriber.status == "unsubscribed"
    browser.get(unsubscribe_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "You are unsubscribed"
    screenshot(browser, shots, "unsubscribed")
    for name in ("subscribe", "manage", "documents", "document", "unsubscribe"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browse_documents_by_date_with_filters_and_pages_on_a_phone(
    site: LiveSite, browser: Any, tmp_path: Path
) -> None:
    from datetime import date, timedelta

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    class Harness:  # the two attributes store() reads
        engine = site.runtime.migrated_engine()
        runtime = site.runtime
        clock = site.runtime.now

    # a backfill stores the newest decision first and the oldest last
    first = date(2025, 1, 6)
    days = [first + timedelta(days=7 * n) for n in range(45)]
    store(
        Harness(),  # type: ignore[arg-type]
        *[
            decision(f"24 {n:03d} 500", title=f"Decision of {day:%d %B %Y}", decided_on=day)
            for n, day in enumerate(reversed(days))
        ],
    )
    shots = _shots_dir(tmp_path)

    def shown() -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result h2")]

    browser.get(f"{site.base}/documents")
    newest = [f"Decision of {day:%d %B %Y}" for day in reversed(days)]
    assert shown() == newest[:20]
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=next]"))
    assert shown() == newest[20:40]
    assert "Page 2" in browser.find_element(By.CSS_SELECTOR, ".pager").text
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=prev]"))
    assert shown() == newest[:20]

    # the form: a date range, oldest first
    # typed digits land in the date picker in the locale's order; the picker sets ISO values
    for field, value in (("date_from", "2025-03-03"), ("date_to", "2025-03-31")):
        browser.execute_script(
            "arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value
        )
    Select(browser.find_element(By.ID, "sort")).select_by_visible_text("Oldest first")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    march = [f"Decision of {day:%d %B %Y}" for day in days if day.month == 3 and day.year == 2025]
    assert shown() == march, browser.current_url
    assert "date_from=2025-03-03" in browser.current_url
    screenshot(browser, shots, "documents-browse")
    assert (shots / "documents-browse.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_phrase_search_says_its_count_is_cut_short_and_pages_on_to_every_match(
    site: LiveSite, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By

    from councilwatch.web import document_pages

    class Harness:  # the two attributes store() reads
        engine = site.runtime.migrated_engine()
        runtime = site.runtime
        clock = site.runtime.now

    titles = [f"Care plan {n} reviewed late" for n in range(3)]
    store(
        Harness(),  # type: ignore[arg-type]
        *[
            decision(f"24 {n:03d} 700", title=title, summary="The care plan was late.")
            for n, title in enumerate(titles)
        ],
        decision("24 999 700", title="A plan for care homes", summary="Homes and a plan."),
    )
    monkeypatch.setattr(document_pages, "PER_PAGE", 2)
    monkeypatch.setattr(document_pages, "PAGE_COUNT_UP_TO", 1)

    def shown() -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result h2")]

    def count() -> str:
        return str(browser.find_element(By.CSS_SELECTOR, ".result-count").text)

    browser.get(f"{site.base}/documents?q=%22care+plan%22")
    assert count() == "At least 2 items match, newest first."
    seen = shown()
    assert len(seen) == 2
    shots = _shots_dir(tmp_path)
    screenshot(browser, shots, "documents-phrase")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=next]"))
    assert count() == "3 items match, newest first."
    seen += shown()
    assert sorted(seen) == sorted(titles)  # every match, once, the other document not
    assert not browser.find_elements(By.CSS_SELECTOR, "a[rel=next]")


DESKTOP_WIDTH, DESKTOP_HEIGHT = 1280, 900


def _viewport(driver: Any, width: int, height: int, *, mobile: bool) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def screenshot_at(driver: Any, directory: Path, name: str, width: int) -> Path:
    """A full-page PNG at ``width`` CSS pixels."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path = directory / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _seed_record(site: LiveSite) -> dict[str, int]:
    from datetime import date

    class Harness:
        engine = site.runtime.migrated_engine()
        runtime = site.runtime
        clock = site.runtime.now

    decisions = []
    for i, (day, outcome) in enumerate(
        [
            (date(2026, 2, 20), "upheld"),
            (date(2026, 1, 12), "upheld"),
            (date(2026, 1, 8), "not upheld"),
            (date(2025, 12, 4), "closed after initial enquiries"),
            (date(2025, 11, 2), "upheld"),
            (date(2025, 8, 19), "not upheld"),
            (date(2025, 7, 1), "upheld"),
            (date(2025, 5, 14), "upheld"),
            (date(2025, 2, 3), "not upheld"),
            (date(2024, 10, 28), "upheld"),
        ]
    ):
        decisions.append(
            decision(
                f"25 010 {i:03d}",
                title=f"Norfolk County Council (25 010 {i:03d})",
                decided_on=day,
                outcome=outcome,
                category=("Education", "Adult care services", "Highways")[i % 3],
                summary="The council delayed school transport for a pupil with an education, "
                "health and care plan."
                if i % 2 == 0
                else "Mrs P waited months for a care assessment for her father.",
                extra={
                    "remedies": {
                        "apology": outcome == "upheld",
                        "payments": [{"amount_pence": 25000 * (i + 1)}]
                        if outcome == "upheld"
                        else [],
                        "total_pence": 25000 * (i + 1) if outcome == "upheld" else 0,
                    }
                },
            )
        )
    decisions.append(
        story(
            "bus-passes-2",
            title="Norfolk County Council apologises to families over school bus passes",
            summary="Norfolk County Council says its school transport booking system failed.",
        )
    )
    return store(Harness(), *decisions)  # type: ignore[arg-type]


def test_subscribe_from_a_council_page_after_seeing_the_preview(
    site: LiveSite, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    shots = _shots_dir(tmp_path)
    _seed_record(site)

    # The council's page: its record, drawn without script, fits a phone.
    browser.get(f"{site.base}/councils/norfolk")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    figures = " ".join(browser.find_element(By.CSS_SELECTOR, ".figures").text.split())
    assert "10 decisions" in figures and "67% upheld of 9 investigated" in figures
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.size["width"] <= PHONE_WIDTH and chart.size["height"] > 100
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    # A bar segment per quarter and outcome; 2026 Q1 holds two upheld decisions in one.
    assert len(bars) == 9 and all(b.size["height"] > 0 for b in bars)
    screenshot_at(browser, shots, "council", PHONE_WIDTH)
    _viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, mobile=False)
    browser.refresh()
    screenshot_at(browser, shots, "council-desktop", DESKTOP_WIDTH)
    _viewport(browser, PHONE_WIDTH, PHONE_HEIGHT, mobile=True)

    # "Get alerts for this council": the form comes filled in, with what it would have caught.
    click_and_wait(
        browser,
        browser.find_element(By.XPATH, "//a[normalize-space()='Get alerts for this council']"),
    )
    assert browser.find_element(By.ID, "council-1").get_attribute("value") == (
        "Norfolk County Council"
    )
    preview = browser.find_element(By.ID, "preview")
    # The clock says 2 March 2026: four decisions and the story are in the last 90 days.
    assert "would have caught 5 items" in preview.text
    assert len(preview.find_elements(By.CSS_SELECTOR, ".preview-items li")) == 5

    # Narrow it with keywords and look again: the words found are marked.
    browser.find_element(By.ID, "query").send_keys("school transport")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    preview = browser.find_element(By.ID, "preview")
    assert "would have caught 3 items" in preview.text
    marks = [m.text.lower() for m in preview.find_elements(By.TAG_NAME, "mark")]
    assert "school transport" in marks
    assert set(marks) <= {"school", "transport", "school transport"}
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot_at(browser, shots, "subscribe-preview", PHONE_WIDTH)
    _viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, mobile=False)
    screenshot_at(browser, shots, "subscribe-preview-desktop", DESKTOP_WIDTH)
    _viewport(browser, PHONE_WIDTH, PHONE_HEIGHT, mobile=True)

    # Then subscribe.
    browser.find_element(By.ID, "email").send_keys("reporter@example.org")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Check your email"
    engine = site.runtime.migrated_engine()
    [view] = [v for v in subscriptions(engine) if v.subscriber.email == "reporter@example.org"]
    [alert] = view.alerts
    assert alert.councils == ["norfolk"] and alert.query == "school transport"
