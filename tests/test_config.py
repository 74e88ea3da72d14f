import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from councilwatch.config import Settings, load_settings
from cwerrors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FEED = '[[sources.news.feeds]]\nname = "{name}"\nurl = "https://paper.example/rss"\n'


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
            "COUNCILWATCH_SECRET_KEY": "s3cret" * 6,
        },
    )
    assert settings.sources.lgsco.window_days == 30
    assert settings.http.obey_robots is False
    assert settings.mail.smtp.host == "mail.example.org"
    assert settings.database.url == "postgresql+psycopg://u@h/db"
    assert settings.secrets.secret_key == "s3cret" * 6


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
        ('[mail]\nfrom = "councilwatch"\n', "mail.from: not an email address: 'councilwatch'"),
        ('[mail]\noperator = "ops at example"\n', "mail.operator: not an email address"),
        ('[mail]\nfrom = "a@b.org\\r\\nBcc: x@y.org"\n', "mail.from: not an email address"),
        ('[web]\nlisten = "127.0.0.1:²"\n', "web.listen: must be host:port"),
        ('[web]\nlisten = "8080"\n', "web.listen: must be host:port"),
        ('[web]\nlisten = "localhost:0"\n', "web.listen: must be host:port"),
        (
            FEED.format(name="paper") + FEED.format(name="paper"),
            "sources.news.feeds: two feeds are named 'paper'",
        ),
        (FEED.format(name="lgsco"), "sources.news.feeds: feed name 'lgsco' is a built-in source"),
        (FEED.format(name="news"), "feed name 'news' is a built-in source"),
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


def test_good_addresses_and_listen_pass(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(
        '[mail]\nfrom = "Alerts <alerts@example.org>"\noperator = "ops@localhost"\n'
        '[web]\nlisten = "[::1]:9000"\n'
    )
    settings = load_settings(path, env={})
    assert settings.mail.operator == "ops@localhost" and settings.web.listen == "[::1]:9000"


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[mail]\nfrom = "Caf\u00e9 <a@b.org>"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not UTF-8 text \(line 2\)"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COUNCILWATCH_DATABASE_URL", "mysql://x/y", "database.url: unsupported database URL"),
        ("COUNCILWATCH_WEB__LISTEN", "127.0.0.1:²", "web.listen: must be host:port"),
        ("COUNCILWATCH_MAIL__FROM", "nobody", "mail.from: not an email address"),
        ("COUNCILWATCH_HTTP__BOGUS", "1", "unknown key 'http.bogus'"),
    ],
)
def test_an_environment_override_error_names_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[http]\nmax_attempts = 2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={name: value})
    assert str(caught.value) == f"{name}: {message}" or str(caught.value).startswith(
        f"{name}: {message}"
    )
    assert "config.toml" not in str(caught.value)


def test_loading_builds_one_validator_not_one_per_section(tmp_path: Path) -> None:
    """Every start-up validates one Settings; building each section's validator as its class
    was defined, then all of them again inside Settings', cost start-up time for nothing.
    The sections still validate alone when used alone."""
    import councilwatch.config as config

    def sections(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *sections(sub))]

    done = subprocess.run(
        [sys.executable, "-c", (
            "import json, councilwatch.config as c\n"
            "c.load_settings(None, env={})\n"
            "def subs(k): return [s for x in k.__subclasses__() for s in (x, *subs(x))]\n"
            "print(json.dumps([k.__name__ for k in subs(c._Section) if k.__pydantic_complete__]))\n"
        )],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == ["Settings"]
    assert len(sections(config._Section)) > 10
    with pytest.raises(ValidationError):
        config.DigestConfig(daily_time="25:00")
    assert config.Settings().mail.smtp == config.SmtpConfig()
