"""Typed configuration, loaded once at start-up and passed down.

Precedence, lowest first: the built-in defaults, the TOML file (``config.toml`` beside the
project, ``--config PATH`` or ``COUNCILWATCH_CONFIG``), then the environment:
``COUNCILWATCH_DATABASE_URL`` and ``COUNCILWATCH_<SECTION>__<KEY>`` for any key (nested sections
joined with ``__``, e.g. ``COUNCILWATCH_SOURCES__LGSCO__WINDOW_DAYS=30``). Secrets are read only
from the environment (``COUNCILWATCH_SECRET_KEY`` or ``COUNCILWATCH_SECRET_KEY_FILE``,
``COUNCILWATCH_SMTP_PASSWORD``); without either key variable the signing key lives in
``<service.data_dir>/secret.key`` (see ``councilwatch.secret_key``). Nothing else in the project
reads the environment. Every setting is checked here, at start: an error names the file and key,
or the environment variable it came from.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from cwerrors import ConfigError
from cwerrors.numbers import ascii_int
from scraper.sources import registry
from scraper.sources.settings import SourceSettings

ENV_PREFIX = "COUNCILWATCH_"
DEFAULT_CONFIG_NAME = "config.toml"
# HMAC-SHA256 keys shorter than its block of 32 bytes are guessable; refuse them at start.
MIN_SECRET_BYTES = 32


class _Section(BaseModel):
    # Validators are built when first used, not as each class is defined: the CLI validates
    # one Settings (whose validator covers every section), so the sections' own validators,
    # built one by one and then again inside Settings', were start-up work for nothing
    # (21 models; see _section).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _section() -> Any:
    """A section's default: a section left out of the file is its model validated from {} by
    the enclosing model's validator, not an instance made at import (making one builds that
    model's own validator)."""
    return Field(default_factory=dict, validate_default=True)


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


def _check_mailbox(value: str) -> str:
    """``name <user@domain>`` or ``user@domain``: one address a mail server would accept."""
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    controls = any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
    if controls or not (at and local and domain) or any(ch.isspace() for ch in address):
        raise ValueError(f"not an email address: {value!r} (e.g. alerts@example.org)")
    return value


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``); ValueError naming the problem if not."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    number = ascii_int(port, minimum=1, maximum=65535)  # "²" is a digit to str.isdigit
    if not sep or not host or number is None:
        raise ValueError(f"must be host:port, like 127.0.0.1:8080, not {value!r}")
    return host, number


class DatabaseConfig(_Section):
    url: str = "sqlite:///var/councilwatch.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"unsupported database URL {value!r} (use sqlite:/// or postgresql+psycopg://)"
            )
        if scheme.startswith("postgresql"):
            try:
                urlsplit(value).port  # noqa: B018 (parsing it is the check)
            except ValueError as exc:
                raise ValueError(
                    f"malformed database URL {value!r} ({exc}); "
                    "expected postgresql+psycopg://user:password@host:5432/dbname"
                ) from None
        return value


class HttpConfig(_Section):
    user_agent: str = "councilwatch/0.1 (+https://github.com/councilwatch/councilwatch)"
    min_interval_seconds: float = Field(1.0, ge=0)
    timeout_seconds: float = Field(20.0, gt=0)
    max_response_bytes: int = Field(10_000_000, gt=0)
    max_attempts: int = Field(4, ge=1, le=10)
    obey_robots: bool = True
    unhealthy_after_failed_runs: int = Field(3, ge=1)


class _Sources(_Section):
    """[sources.*]: one section per registered source, added below from
    ``scraper.sources.registry`` (each source brings its own settings model)."""

    def of(self, config_key: str) -> SourceSettings:
        """A registered source's section by its config key."""
        found = getattr(self, config_key)
        assert isinstance(found, SourceSettings)
        return found

    if TYPE_CHECKING:  # a section per registered source, typed by the source's own model

        def __getattr__(self, config_key: str) -> Any: ...


if TYPE_CHECKING:
    SourcesConfig = _Sources
else:
    SourcesConfig = create_model(
        "SourcesConfig",
        __base__=_Sources,
        **{info.config_key: (info.config_model, _section()) for info in registry.infos()},
    )


class QuarantineConfig(_Section):
    # Pages that failed to parse are kept here (raw bytes + a JSON sidecar), oldest dropped
    # once the folder is over max_bytes.
    directory: Path = Path("var/quarantine")
    max_bytes: int = Field(50_000_000, ge=100_000)


class SmtpConfig(_Section):
    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    timeout_seconds: float = Field(30.0, gt=0)
    # Trust this CA bundle (PEM) for the server's certificate instead of the system store.
    ca_file: Path | None = None


class DkimConfig(_Section):
    """DKIM signing, off until all three are set (docs/operations.md has the DNS records)."""

    domain: str | None = None
    selector: str | None = None
    private_key_file: Path | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.domain or self.selector or self.private_key_file)


class MailConfig(_Section):
    transport: Literal["file", "smtp"] = "file"
    outbox_dir: Path = Path("var/outbox")
    from_: str = Field("councilwatch <alerts@councilwatch.invalid>", alias="from")
    operator: str | None = None
    # The bodies of sent (or failed-for-good) emails are deleted this many days after; the
    # outbox rows (status, recipient, times) stay. ~57 KB a digest (db/outbox_prune.py).
    sent_retention_days: int = Field(30, ge=1)
    smtp: SmtpConfig = _section()
    dkim: DkimConfig = _section()

    @field_validator("from_", "operator")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return None if value is None else _check_mailbox(value)


class DigestConfig(_Section):
    immediate_every_minutes: int = Field(5, ge=1)
    daily_time: str = "07:00"
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_time: str = "07:00"
    items_per_group: int = Field(5, ge=1)
    lease_seconds: int = Field(300, ge=10)

    @field_validator("daily_time", "weekly_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if ascii_int(hours, maximum=23) is None or ascii_int(minutes, maximum=59) is None:
            raise ValueError(f"expected HH:MM, got {value!r}")
        return value


def _networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or CIDR network: {item!r}") from None
    return value


class WebConfig(_Section):
    base_url: str = "http://127.0.0.1:8080"
    listen: str = "127.0.0.1:8080"
    enabled: bool = True
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs): none by default.
    trusted_proxies: tuple[str, ...] = ()
    # Who may read /metrics (addresses or CIDRs): this machine only by default.
    metrics_clients: tuple[str, ...] = ("127.0.0.1", "::1")

    _check_base = field_validator("base_url")(_check_http_url)
    _check_networks = field_validator("trusted_proxies", "metrics_clients")(_networks)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_listen(value)
        return value


class CouncilsConfig(_Section):
    # Councils imported by `councilwatch councils update`, merged over the built-in register.
    register_file: Path = Path("var/councils.json")
    # mySociety's UK local authority register (CSV), the default source of updates.
    update_url: str = (
        "https://pages.mysociety.org/uk_local_authority_names_and_codes/data/"
        "uk_la_past_current/latest/uk_local_authorities.csv"
    )


class ServiceConfig(_Section):
    timezone: str = "Europe/London"
    shutdown_grace_seconds: float = Field(30.0, ge=0)
    fetch_on_start: bool = True
    # Where the service keeps what it makes for itself: the signing key (secret.key).
    data_dir: Path = Path("var")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/London)") from None
        return value


class Secrets(_Section):
    """Values that only ever come from the environment."""

    secret_key: str | None = None
    # Which variable (or file) the key came from, for error messages.
    secret_key_origin: str | None = None
    smtp_password: str | None = None


class Settings(_Section):
    database: DatabaseConfig = _section()
    http: HttpConfig = _section()
    sources: SourcesConfig = _section()
    quarantine: QuarantineConfig = _section()
    mail: MailConfig = _section()
    digest: DigestConfig = _section()
    web: WebConfig = _section()
    councils: CouncilsConfig = _section()
    service: ServiceConfig = _section()
    secrets: Secrets = _section()
    source_file: Path | None = None


def default_config_path(env: Mapping[str, str]) -> Path | None:
    if env.get(ENV_PREFIX + "CONFIG"):
        return Path(env[ENV_PREFIX + "CONFIG"])
    candidate = Path(DEFAULT_CONFIG_NAME)
    return candidate if candidate.is_file() else None


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file and the environment once; raise ConfigError naming the file and key, or
    the environment variable a bad value came from."""
    env = os.environ if env is None else env
    path = path if path is not None else default_config_path(env)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: is a directory, not a config file") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{path}: not UTF-8 text (line {line}); save the config file as UTF-8"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        if "secrets" in data:
            raise ConfigError(f"{path}: [secrets] may only come from the environment")
    from_env = _apply_env(data, env)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, from_env)) from None
    settings = settings.model_copy(update={"source_file": path})
    from councilwatch.secret_key import check_at_start

    check_at_start(settings)
    return settings


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Merge the environment into ``data``; returns which keys came from which variable."""
    from_env: dict[tuple[str, ...], str] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :]
        if key == "DATABASE_URL":
            data.setdefault("database", {})["url"] = raw
            from_env[("database", "url")] = name
        elif key == "SMTP_PASSWORD":
            data.setdefault("secrets", {})["smtp_password"] = raw
        elif "__" in key and not key.startswith("TEST_"):
            *sections, leaf = [part.lower() for part in key.split("__")]
            node = data
            for section in sections:
                node = node.setdefault(section, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"{name}: {section} is not a section")
            node[leaf] = _env_value(raw)
            from_env[(*sections, leaf)] = name
    secret, origin = _secret_from_env(env)
    if secret is not None:
        data.setdefault("secrets", {}).update(secret_key=secret, secret_key_origin=origin)
    return from_env


def _secret_from_env(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The signing key from COUNCILWATCH_SECRET_KEY, else the file COUNCILWATCH_SECRET_KEY_FILE
    names (the container-secrets convention); (None, None) when neither is set."""
    direct, file_var = ENV_PREFIX + "SECRET_KEY", ENV_PREFIX + "SECRET_KEY_FILE"
    if env.get(direct):
        return env[direct], direct
    if not env.get(file_var):
        return None, None
    key_path = Path(env[file_var])
    try:
        return key_path.read_text(encoding="utf-8").strip(), f"{file_var} ({key_path})"
    except FileNotFoundError:
        raise ConfigError(f"{file_var}: no such file {str(key_path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{file_var}: cannot read {str(key_path)!r} ({reason})") from None


def _env_value(raw: str) -> Any:
    # Environment values are TOML literals when they parse as one (numbers, booleans,
    # arrays), otherwise plain strings, so `...__WINDOW_DAYS=30` and URLs both work.
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _describe(
    exc: ValidationError, path: Path | None, from_env: Mapping[tuple[str, ...], str]
) -> str:
    where = str(path) if path else "configuration"
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = ".".join(loc)
        variable = next((v for k, v in from_env.items() if loc[: len(k)] == k), None)
        if error["type"] == "extra_forbidden":
            problem = f"unknown key {key!r}"
        else:
            message = error["msg"].removeprefix("Value error, ")
            problem = f"{key}: {message}"
        problems.append(f"{variable}: {problem}" if variable else f"{where}: {problem}")
    return "; ".join(problems)
