"""Where the hub keeps its data, chosen once from the environment with embedded defaults."""

from __future__ import annotations

import os
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
