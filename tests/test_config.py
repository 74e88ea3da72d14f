from pathlib import Path

import pytest

from councilwatch.config import Settings, load_settings
from cwerrors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_the_documented_default() -> None:
    shipped = load_settings(ROOT / "config.toml", env={})
    defaults = Settings()
    # The shipped file documents every key; apart from the example feeds it equals the defaults.
    assert shipped.model_copy(update={"source_file": None, "sources": defaults.sources}) == defaults
    assert shipped.sources.lgsco == defaults.sources.lgsco
    assert [feed.name for feed in shipped.sources.news.feeds] == ["edp-news", "bbc-norfolk"]


def test_every_default_key_is_documented_in_config_toml() -> None:
    import tomllib

    documented = tomllib.loads((ROOT / "config.toml").read_text())
    defaults = Settings().model_dump(by_alias=True, exclude={"secrets", "source_file"})

    def keys(node: dict[str, object], prefix: str = "") -> set[str]:
        found = set()
        for key, value in node.items():
            if isinstance(value, dict):
                found |= keys(value, f"{prefix}{key}.")
            else:
                found.add(prefix + key)
        return found

    text = (ROOT / "config.toml").read_text()
    missing = {
        key
        for key in keys(defaults) - keys(documented)
        if f"# {key.rsplit('.', 1)[-1]} =" not in text  # optional keys are shown commented out
    }
    assert not missing, f"config.toml does not document {sorted(missing)}"


def test_environment_overrides_any_key_and_database_url(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        env={
            "COUNCILWATCH_SOURCES__LGSCO__WINDOW_DAYS": "30",
            "COUNCILWATCH_HTTP__OBEY_ROBOTS": "false",
            "COUNCILWATCH_MAIL__SMTP__HOST": "mail.example.org",
            "COUNCILWATCH_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "COUNCILWATCH_SECRET_KEY": "s3cret",
        },
    )
    assert settings.sources.lgsco.window_days == 30
    assert settings.http.obey_robots is False
    assert settings.mail.smtp.host == "mail.example.org"
    assert settings.database.url == "postgresql+psycopg://u@h/db"
    assert settings.secrets.secret_key == "s3cret"


def test_config_env_var_picks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[web]\nbase_url = "https://alerts.example.org"\n')
    settings = load_settings(None, env={"COUNCILWATCH_CONFIG": str(path)})
    assert settings.web.base_url == "https://alerts.example.org"
    assert settings.source_file == path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[http]\nbogus = 1\n", "unknown key 'http.bogus'"),
        ("[http]\ntimeout_seconds = 'soon'\n", "http.timeout_seconds"),
        ('[sources.lgsco]\nbase_url = "ftp://x"\n', "sources.lgsco.base_url: not an http(s) URL"),
        ('[database]\nurl = "mysql://x"\n', "unsupported database URL"),
        ("[http\n", "not valid TOML"),
        ('[secrets]\nsecret_key = "x"\n', "[secrets] may only come from the environment"),
        ('[digest]\ndaily_time = "25:00"\n', "digest.daily_time: expected HH:MM"),
        ('[service]\ntimezone = "Mars/Olympus"\n', "service.timezone: unknown time zone"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml", env={})
