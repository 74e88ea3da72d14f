"""Build a Runtime for tests: a migrated database, file mail under tmp, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from councilwatch.config import load_settings
from councilwatch.runtime import Runtime

SECRET = "test-secret-key-0123456789-abcdefghij"


def make_runtime(
    database_url: str,
    tmp_path: Path,
    *,
    now: Callable[[], datetime] | None = None,
    env: Mapping[str, str] | None = None,
    toml: str = "",
    **kwargs: Any,
) -> Runtime:
    config = tmp_path / "runtime-config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n'
        f'[councils]\nregister_file = "{tmp_path / "councils.json"}"\n'
        f'[quarantine]\ndirectory = "{tmp_path / "quarantine"}"\n' + toml
    )
    settings = load_settings(config, env={"COUNCILWATCH_SECRET_KEY": SECRET, **(env or {})})
    runtime = Runtime(settings, **kwargs)
    if now is not None:
        runtime.now = now
    return runtime


def disable_sources(*, keep: tuple[str, ...] = ()) -> str:
    """TOML switching off every registered source but those in ``keep`` (config keys), so a
    test service never reaches a real site whatever sources the registry grows."""
    from scraper.sources import registry

    # a source with no site of its own (news reads only the feeds a test configures) is left
    return "".join(
        f"[sources.{info.config_key}]\nenabled = false\n"
        for info in registry.infos()
        if info.config_key not in keep and info.config_model().base_url
    )
