"""Where the hub keeps its data, chosen once from the environment with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

DATA_DIR_ENV = "COMMONSHED_DATA_DIR"
DATABASE_URL_ENV = "COMMONSHED_DATABASE_URL"
TRUSTED_PROXIES_ENV = "COMMONSHED_TRUSTED_PROXIES"


def data_dir(override: str | Path | None = None) -> Path:
    """Return the data directory: the override, else $COMMONSHED_DATA_DIR, else ./data."""
    chosen = override or os.environ.get(DATA_DIR_ENV) or "data"
    return Path(chosen).expanduser().resolve()


def database_url(data: Path | None = None, override: str | None = None) -> str:
    """Return the database URL: the override, else $COMMONSHED_DATABASE_URL, else SQLite."""
    chosen = override or os.environ.get(DATABASE_URL_ENV)
    if chosen:
        return chosen
    return f"sqlite:///{(data or data_dir()) / 'commonshed.db'}"


def trusted_proxies(override: int | None = None) -> int:
    """Return how many reverse proxies stand before the web: the override, else
    $COMMONSHED_TRUSTED_PROXIES, else 0 (trust no forwarded header)."""
    chosen = override if override is not None else os.environ.get(TRUSTED_PROXIES_ENV, "0")
    count = int(chosen)
    if count < 0:
        raise ValueError(f"{TRUSTED_PROXIES_ENV} must be 0 or more, not {count}.")
    return count


CLOCK_SKEW_ENV = "COMMONSHED_CLOCK_SKEW_S"
SEQ_HOLD_ENV = "COMMONSHED_SEQ_HOLD_S"
DEFAULT_CLOCK_SKEW_S = 300.0
DEFAULT_SEQ_HOLD_S = 60.0


def clock_skew_bound() -> timedelta:
    """Return how far a kiosk's clock may be from the hub's before it is flagged and
    corrected: $COMMONSHED_CLOCK_SKEW_S seconds, else 5 minutes."""
    return timedelta(seconds=_seconds(CLOCK_SKEW_ENV, DEFAULT_CLOCK_SKEW_S))


def seq_hold() -> timedelta:
    """Return how long a kiosk's loan events wait for a gap in its sequence to fill before
    they are paired anyway: $COMMONSHED_SEQ_HOLD_S seconds, else 60."""
    return timedelta(seconds=_seconds(SEQ_HOLD_ENV, DEFAULT_SEQ_HOLD_S))


def _seconds(name: str, default: float) -> float:
    """Return the environment's positive number of seconds ``name``, else ``default``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 86_400:
        raise ValueError(f"{name} must be between 0 and 86400 seconds, not {raw!r}")
    return value


# --- mail ---------------------------------------------------------------------------------

PUBLIC_URL_ENV = "COMMONSHED_PUBLIC_URL"
SMTP_HOST_ENV = "COMMONSHED_SMTP_HOST"
SMTP_PORT_ENV = "COMMONSHED_SMTP_PORT"
SMTP_TLS_ENV = "COMMONSHED_SMTP_TLS"
SMTP_USER_ENV = "COMMONSHED_SMTP_USER"
SMTP_PASSWORD_ENV = "COMMONSHED_SMTP_PASSWORD"
MAIL_FROM_ENV = "COMMONSHED_MAIL_FROM"
SMTP_TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes: an SMTP server, how to secure the link, and who the mail is from."""

    host: str
    port: int = 587
    tls: str = "starttls"  # one of SMTP_TLS_MODES
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "Commonshed <commonshed@localhost>"
    timeout: float = 20.0


def public_url(override: str | None = None) -> str:
    """Return the address members reach the web at (in mail): the override, else
    $COMMONSHED_PUBLIC_URL, else http://127.0.0.1:8000."""
    chosen = override or os.environ.get(PUBLIC_URL_ENV) or "http://127.0.0.1:8000"
    return chosen.rstrip("/")


def smtp_settings() -> SmtpSettings | None:
    """Return the SMTP server from $COMMONSHED_SMTP_HOST, _PORT, _TLS (none, starttls, ssl),
    _USER, _PASSWORD and $COMMONSHED_MAIL_FROM; None when no host is set (mail then waits)."""
    host = os.environ.get(SMTP_HOST_ENV, "").strip()
    if not host:
        return None
    tls = os.environ.get(SMTP_TLS_ENV, "starttls").strip().lower()
    if tls not in SMTP_TLS_MODES:
        raise ValueError(f"{SMTP_TLS_ENV} must be one of {', '.join(SMTP_TLS_MODES)}, not {tls!r}")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
    raw_port = os.environ.get(SMTP_PORT_ENV, "").strip() or str(default_port)
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ValueError(f"{SMTP_PORT_ENV} must be a port number, not {raw_port!r}")
    return SmtpSettings(
        host=host,
        port=int(raw_port),
        tls=tls,
        user=os.environ.get(SMTP_USER_ENV) or None,
        password=os.environ.get(SMTP_PASSWORD_ENV) or None,
        sender=os.environ.get(MAIL_FROM_ENV) or SmtpSettings.sender,
    )
