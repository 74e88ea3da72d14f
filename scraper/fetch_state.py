"""What the fetcher remembers about each URL between runs.

``scraper`` must not import the database, so the fetcher talks to a small protocol that ``db/``
implements; :class:`MemoryFetchStateStore` is the dict-backed version for tests and one-shot runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass
class UrlState:
    """Validators and outcome of the last fetch of one URL."""

    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    moved_to: str | None = None  # set after a 301/308: next run asks this URL
    gone: bool = False  # set after a 410


class FetchStateStore(Protocol):
    """Per-URL fetch state, keyed by the exact URL string that was requested."""

    def get_state(self, url: str) -> UrlState | None: ...

    def put_state(self, url: str, state: UrlState) -> None: ...


class MemoryFetchStateStore:
    """A :class:`FetchStateStore` in a dict; copies on the way in and out so callers cannot
    mutate what is stored behind the store's back."""

    def __init__(self) -> None:
        self._states: dict[str, UrlState] = {}
        self._lock = threading.Lock()

    def get_state(self, url: str) -> UrlState | None:
        with self._lock:
            state = self._states.get(url)
        return _copy(state) if state is not None else None

    def put_state(self, url: str, state: UrlState) -> None:
        with self._lock:
            self._states[url] = _copy(state)

    def __len__(self) -> int:
        return len(self._states)


def _copy(state: UrlState) -> UrlState:
    # Spelled out: dataclasses.replace() introspects the fields on every call.
    return UrlState(state.etag, state.last_modified, state.last_status, state.moved_to, state.gone)
