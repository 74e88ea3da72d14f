"""The toy source's simulated site on the local test web."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

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
        return self

    def publish(self, case: str, council: str, summary: str, *, decided: date) -> None:
        entry = {"case": case, "council": council, "summary": summary, "outcome": "upheld"}
        self.entries.insert(0, {**entry, "decided": decided.isoformat()})

    def _listing(self, request: Request) -> Reply:
        return Reply(json.dumps(self.entries), content_type="application/json")
