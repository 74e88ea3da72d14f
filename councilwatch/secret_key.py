"""The key that signs links in emails: found by the application itself, made once if missing.

In this order: ``COUNCILWATCH_SECRET_KEY``; the file ``COUNCILWATCH_SECRET_KEY_FILE`` names
(Docker and systemd credentials); ``<service.data_dir>/secret.key``. The last is created by
the first command that signs a link (mode 0600, written beside and linked into place, so two
processes starting together agree on one key) and read ever after, so links keep working
across restarts. Read-only commands never create it. A key shorter than 32 bytes is refused
when the settings load, wherever it came from.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from councilwatch.config import ENV_PREFIX, MIN_SECRET_BYTES, Settings
from cwerrors import ConfigError

KEY_FILE_NAME = "secret.key"
_cache: dict[Path, bytes] = {}
_cache_lock = threading.Lock()


def key_file(settings: Settings) -> Path:
    return settings.service.data_dir / KEY_FILE_NAME


def _check_length(key: str, origin: str) -> None:
    size = len(key.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{origin}: the signing key is {size} bytes, at least {MIN_SECRET_BYTES} are needed "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )


def check_at_start(settings: Settings) -> None:
    """Refuse a short key at start-up: from the environment, or a key file already made."""
    given = settings.secrets.secret_key
    if given is not None:
        _check_length(given, settings.secrets.secret_key_origin or ENV_PREFIX + "SECRET_KEY")
        return
    path = key_file(settings)
    if path.is_file():
        _check_length(_read(path), str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the signing key ({reason})") from None


def signing_key(settings: Settings) -> bytes:
    """The key as bytes; creates the data directory's key file on first use."""
    if settings.secrets.secret_key:
        return settings.secrets.secret_key.encode("utf-8")
    path = key_file(settings).absolute()
    with _cache_lock:
        if path not in _cache:
            key = _read(path) if path.exists() else _create(path)
            _check_length(key, str(path))
            _cache[path] = key.encode("utf-8")
        return _cache[path]


def _create(path: Path) -> str:
    key = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(scratch, path)  # fails if another process made the key first: use theirs
        except FileExistsError:
            key = _read(path)
        finally:
            scratch.unlink()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot create the signing key ({exc.strerror}); set "
            f"{ENV_PREFIX}SECRET_KEY or {ENV_PREFIX}SECRET_KEY_FILE, or make "
            "service.data_dir writable"
        ) from None
    return key
