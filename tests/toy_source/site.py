"""The toy source's simulated site on the local test web."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from tests.testweb import LocalWeb, Reply, Request


class ToySite:
    def __init__(self, web: LocalWeb, prefix: str = "/toy") -> None:
        self.web = web
        self.prefix = prefix
        self.entries: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return self.web.url(self.prefix)

    def install(self) -> ToySite:
        self.web.route(f"{self.prefix}/decisions.json", handler=self._listing)
        # so a test's child process can publish between two of its commands
        self.web.route(f"{self.prefix}/publish", handler=self._publish)
        return self

    def publish(self, case: str, council: str, summary: str, *, decided: date) -> None:
        entry = {"case": case, "council": council, "summary": summary, "outcome": "upheld"}
        self.entries.insert(0, {**entry, "decided": decided.isoformat()})

    def publish_url(self, case: str, council: str, summary: str, *, decided: date) -> str:
        query = urlencode(
            {"case": case, "council": council, "summary": summary, "decided": decided}
        )
        return f"{self.base_url}/publish?{query}"

    def _publish(self, request: Request) -> Reply:
        found = request.query
        self.publish(
            found["case"],
            found["council"],
            found["summary"],
            decided=date.fromisoformat(found["decided"]),
        )
        return Reply("published", content_type="text/plain")

    def _listing(self, request: Request) -> Reply:
        return Reply(json.dumps(self.entries), content_type="application/json")
