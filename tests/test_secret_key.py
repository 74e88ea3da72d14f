"""The signing key: found by the application, made once, refused when short."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from councilwatch import secret_key
from councilwatch.config import load_settings
from councilwatch.secret_key import signing_key
from cwerrors import ConfigError

LONG = "k" * 40


def _settings(tmp_path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n')
    return load_settings(config, env=env or {})


def test_key_file_is_made_once_with_mode_0600_and_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = tmp_path / "data" / "secret.key"
    assert not path.exists()  # loading settings makes nothing
    key = signing_key(settings)
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip().encode() == key
    # A later process (nothing remembered) reads the same key from the file.
    secret_key._cache.clear()
    again = load_settings(settings.source_file, env={})
    assert signing_key(again) == key
    assert list(path.parent.iterdir()) == [path]  # no scratch files left beside it


def test_environment_key_wins_then_the_key_file_variable(tmp_path: Path) -> None:
    key_file = tmp_path / "docker-secret"
    key_file.write_text("f" * 36 + "\n")
    both = _settings(
        tmp_path,
        {"COUNCILWATCH_SECRET_KEY": LONG, "COUNCILWATCH_SECRET_KEY_FILE": str(key_file)},
    )
    assert signing_key(both) == LONG.encode()
    from_file = _settings(tmp_path, {"COUNCILWATCH_SECRET_KEY_FILE": str(key_file)})
    assert signing_key(from_file) == b"f" * 36
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COUNCILWATCH_SECRET_KEY": "x"}, "COUNCILWATCH_SECRET_KEY: the signing key is 1 bytes"),
        (
            {"COUNCILWATCH_SECRET_KEY_FILE": "{tmp}/short"},
            "COUNCILWATCH_SECRET_KEY_FILE ({tmp}/short): the signing key is 5 bytes",
        ),
        (
            {"COUNCILWATCH_SECRET_KEY_FILE": "{tmp}/absent"},
            "COUNCILWATCH_SECRET_KEY_FILE: no such file '{tmp}/absent'",
        ),
    ],
)
def test_short_or_missing_keys_are_refused_at_start(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    (tmp_path / "short").write_text("short\n")
    env = {name: value.format(tmp=tmp_path) for name, value in env.items()}
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, env)
    assert str(caught.value).startswith(expected.format(tmp=tmp_path))
    assert "\n" not in str(caught.value)


def test_a_short_key_file_in_the_data_directory_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text("tiny\n")
    with pytest.raises(ConfigError, match=r"secret.key: the signing key is 4 bytes"):
        _settings(tmp_path)


def test_an_unwritable_data_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError, match="cannot create the signing key"):
        signing_key(settings)


def test_make_demo_keeps_its_key_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.demo_world import demo_sites, write_config
    from tests.testweb import LocalWeb

    monkeypatch.chdir(tmp_path)  # the demo keeps everything under ./var/demo
    web = LocalWeb().start()
    try:
        sites = demo_sites(web)
        config = write_config(sites)
        first = signing_key(load_settings(config, env={}))
        secret_key._cache.clear()  # a new process
        second = signing_key(load_settings(write_config(sites), env={}))  # a restart
    finally:
        web.stop()
    assert first == second
    assert (tmp_path / "var/demo/secret.key").read_text().strip().encode() == first
