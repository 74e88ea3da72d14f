"""Pages that failed to parse, kept so the failure can be reproduced and become an example.

    store = Quarantine(Path("var/quarantine"), max_bytes=50_000_000, now=clock)
    path = store.keep("lgsco", url, content, "...: no decision date")
    # -> var/quarantine/lgsco/20260809T101500Z-3f2a9c1b.html  (+ .json beside it)
    councilwatch parse lgsco var/quarantine/lgsco/20260809T101500Z-3f2a9c1b.html --url URL

Each kept page is two files in ``<directory>/<source>/``: the raw bytes exactly as fetched
(``.html``) and a JSON sidecar with the URL, the time and the error. Names start with the UTC
time, so the oldest sort first; once the folder is over ``max_bytes`` the oldest pages are
dropped until it fits again (the page just kept always stays). The same bytes failing again
are kept once. No source-specific code: every source quarantines through this.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("scraper.quarantine")

DEFAULT_MAX_BYTES = 50_000_000


@dataclass(frozen=True)
class KeptPage:
    path: Path  # the raw bytes
    source: str
    url: str
    kept_at: str  # ISO 8601, UTC
    error: str

    def reproduce(self) -> str:
        """The command that parses the kept page again."""
        return f"councilwatch parse {self.source} {self.path} --url {self.url}"


class Quarantine:
    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._now = now

    def keep(self, source: str, url: str, content: bytes, error: str) -> Path | None:
        """Keep one failing page; its path, or None when it could not be written (logged:
        a full disk must not turn a parse failure into a crash)."""
        moment = self._now().astimezone(UTC)
        digest = hashlib.sha256(content).hexdigest()[:12]
        folder = self.directory / source
        try:
            folder.mkdir(parents=True, exist_ok=True)
            existing = sorted(folder.glob(f"*-{digest}.html"))
            if existing:
                return existing[-1]
            path = folder / f"{moment:%Y%m%dT%H%M%S}Z-{digest}.html"
            path.write_bytes(content)
            sidecar = {"url": url, "kept_at": moment.isoformat(), "error": error}
            path.with_suffix(".json").write_text(
                json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            self._trim(keep=path)
        except OSError as exc:
            log.error("quarantine: cannot keep %s under %s: %s", url, folder, exc)
            return None
        return path

    def recent(self, source: str, limit: int = 5) -> list[KeptPage]:
        """The newest kept pages of ``source``, newest first."""
        pages = []
        for path in sorted((self.directory / source).glob("*.html"), reverse=True)[:limit]:
            try:
                meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            pages.append(
                KeptPage(
                    path=path,
                    source=source,
                    url=str(meta.get("url", "")),
                    kept_at=str(meta.get("kept_at", "")),
                    error=str(meta.get("error", "")),
                )
            )
        return pages

    def _trim(self, *, keep: Path) -> None:
        """Drop the oldest pages (raw bytes and sidecar together) until the folder fits."""
        pages: dict[Path, list[Path]] = {}
        for path in self.directory.glob("*/*"):
            if path.suffix in (".html", ".json"):
                pages.setdefault(path.with_suffix(""), []).append(path)
        sizes = {stem: sum(f.stat().st_size for f in files) for stem, files in pages.items()}
        total = sum(sizes.values())
        for stem in sorted(pages, key=lambda stem: stem.name):  # names start with the time
            if total <= self.max_bytes:
                return
            if stem == keep.with_suffix(""):
                continue
            for path in pages[stem]:
                path.unlink(missing_ok=True)
            total -= sizes[stem]
