"""Every crawled source, in one list: adding a source is one line here.

Each entry is a package under ``scraper/sources/`` with a light ``config`` module (its
:class:`~scraper.sources.settings.SourceInfo` and settings model, importing only pydantic) and a
``SOURCE`` in its ``source`` module. The configuration, the service's jobs, ``councilwatch fetch``,
``parse``, ``sources``, health, digests and the example-page harness all iterate this list, and
import a source's parsers only when they use them.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from scraper.sources.settings import SourceInfo

if TYPE_CHECKING:  # the contract's full module is for what crawls (config reads settings)
    from scraper.sources.base import Source

PACKAGES: tuple[str, ...] = (
    "scraper.sources.lgsco",
    "scraper.sources.housing_ombudsman",
    "scraper.sources.news",
)


def extend(package: str) -> None:
    """Register one more source package before the registry is read (a deployment's own
    source, or a test's toy one), exactly as a line in ``PACKAGES`` would."""
    global PACKAGES
    if package not in PACKAGES:
        PACKAGES = (*PACKAGES, package)
        infos.cache_clear()


@cache
def infos() -> tuple[SourceInfo, ...]:
    found = []
    for package in PACKAGES:
        info = importlib.import_module(f"{package}.config").INFO
        assert isinstance(info, SourceInfo), f"{package}.config.INFO is not a SourceInfo"
        found.append(info)
    return tuple(found)


def names() -> tuple[str, ...]:
    return tuple(info.name for info in infos())


def info(name: str) -> SourceInfo | None:
    return next((found for found in infos() if found.name == name), None)


def load(name: str) -> Source:
    """The source called ``name`` with its parsers (KeyError when there is none)."""
    for package, found in zip(PACKAGES, infos(), strict=True):
        if found.name == name:
            source: Source = importlib.import_module(f"{package}.source").SOURCE
            return source
    raise KeyError(name)
