"""Broker credentials and configuration, kept in ``<data>/broker/``.

<data>/broker/mosquitto.conf        rendered from broker/mosquitto.conf.template
<data>/broker/acl                   copied from broker/acl
<data>/broker/passwd                Mosquitto password file ($7$ PBKDF2-SHA512 hashes)
<data>/broker/credentials/<user>.json   username, password, site (0600)
<data>/broker/db/                   Mosquitto persistence
<data>/broker/mosquitto.log, mosquitto.pid
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import secrets
import string
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from broker.topics import HUB_USERNAME, validate_kiosk_id, validate_site_id

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_TEMPLATE = PACKAGE_DIR / "mosquitto.conf.template"
ACL_SOURCE = PACKAGE_DIR / "acl"
DATA_DIR_ENV = "COMMONSHED_DATA_DIR"
DEFAULT_SITE = "main"
DEFAULT_PORT = 1883
DEFAULT_BIND_ADDRESS = "127.0.0.1"
# Mosquitto's own default. The passwords are 256-bit random tokens, so more rounds would only
# slow every CONNECT without making a guess any likelier.
PBKDF2_ITERATIONS = 101
_SALT_BYTES = 12


@dataclass(frozen=True)
class Credentials:
    """What a client needs to log in to the broker."""

    username: str
    password: str
    site: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class BrokerPaths:
    """Where the broker's files live inside a data directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def acl(self) -> Path:
        return self.root / "acl"

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    @property
    def credentials_dir(self) -> Path:
        return self.root / "credentials"

    @property
    def persistence_dir(self) -> Path:
        return self.root / "db"

    @property
    def log(self) -> Path:
        return self.root / "mosquitto.log"

    @property
    def pid(self) -> Path:
        return self.root / "mosquitto.pid"

    def credentials(self, username: str) -> Path:
        """Return the credentials file of ``username``."""
        return self.credentials_dir / f"{username}.json"


def default_data_dir() -> Path:
    """Return the data directory: ``$COMMONSHED_DATA_DIR``, or ``./data``."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data")


def broker_paths(data_dir: Path | str) -> BrokerPaths:
    """Return the broker's paths inside ``data_dir``, creating its private directories."""
    paths = BrokerPaths(Path(data_dir).resolve() / "broker")
    for directory in (paths.root, paths.credentials_dir, paths.persistence_dir):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return paths


# --- passwords -----------------------------------------------------------------------------


def generate_password() -> str:
    """Return a new random password (256 bits, URL-safe, no ':' so the password file is safe)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Return ``password`` in Mosquitto 2's password-file hash format (``$7$``, PBKDF2-SHA512)."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, PBKDF2_ITERATIONS)
    encoded_salt = base64.b64encode(salt).decode("ascii")
    return f"$7${PBKDF2_ITERATIONS}${encoded_salt}${base64.b64encode(digest).decode('ascii')}"


def verify_password(password: str, hashed: str) -> bool:
    """Tell whether ``password`` matches a ``$7$`` hash from a Mosquitto password file."""
    _, kind, iterations, salt, digest = hashed.split("$")
    if kind != "7":
        raise ValueError(f"unsupported password hash type ${kind}$")
    actual = hashlib.pbkdf2_hmac(
        "sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
    )
    return secrets.compare_digest(actual, base64.b64decode(digest))


def read_password_file(path: Path) -> dict[str, str]:
    """Return username -> hash from a Mosquitto password file (empty if there is none)."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            username, _, hashed = line.partition(":")
            entries[username] = hashed
    return entries


def set_password(path: Path, username: str, password: str) -> None:
    """Add or replace ``username`` in the password file at ``path``."""
    entries = read_password_file(path)
    entries[username] = hash_password(password)
    _write_private(path, "".join(f"{user}:{hashed}\n" for user, hashed in entries.items()))


def remove_user(path: Path, username: str) -> bool:
    """Remove ``username`` from the password file; tell whether it was there."""
    entries = read_password_file(path)
    if entries.pop(username, None) is None:
        return False
    _write_private(path, "".join(f"{user}:{hashed}\n" for user, hashed in entries.items()))
    return True


# --- credentials ---------------------------------------------------------------------------


def load_credentials(data_dir: Path | str, username: str) -> Credentials:
    """Return the stored credentials of ``username``; FileNotFoundError if it has none."""
    path = broker_paths(data_dir).credentials(username)
    return Credentials(**json.loads(path.read_text(encoding="utf-8")))


def provision_kiosk(
    data_dir: Path | str, kiosk_id: str, *, site: str = DEFAULT_SITE, rotate: bool = False
) -> Credentials:
    """Give kiosk ``kiosk_id`` broker credentials (kept if it has some, unless ``rotate``)."""
    return _provision(data_dir, validate_kiosk_id(kiosk_id), validate_site_id(site), rotate)


def ensure_hub_credentials(data_dir: Path | str, *, rotate: bool = False) -> Credentials:
    """Give the hub broker credentials (kept if it has some, unless ``rotate``)."""
    return _provision(data_dir, HUB_USERNAME, None, rotate)


def revoke(data_dir: Path | str, username: str) -> bool:
    """Remove ``username`` from the broker; tell whether it was there."""
    paths = broker_paths(data_dir)
    with _locked(paths):
        paths.credentials(username).unlink(missing_ok=True)
        return remove_user(paths.passwd, username)


def _provision(data_dir: Path | str, username: str, site: str | None, rotate: bool) -> Credentials:
    """Create or reuse ``username``'s credentials and make the password file agree with them."""
    paths = broker_paths(data_dir)
    with _locked(paths):
        existing = _stored_credentials(paths, username)
        if existing is None or rotate:
            created = datetime.now(UTC).isoformat(timespec="seconds")
            credentials = Credentials(username, generate_password(), site, created)
        else:
            credentials = replace(existing, site=site)
        if credentials != existing:
            _write_private(paths.credentials(username), json.dumps(asdict(credentials), indent=2))
        # NOTE: check the hash too, so a password file restored from elsewhere is mended.
        if not _hash_matches(paths.passwd, credentials):
            set_password(paths.passwd, username, credentials.password)
        return credentials


def _stored_credentials(paths: BrokerPaths, username: str) -> Credentials | None:
    """Return ``username``'s stored credentials, if any."""
    try:
        return Credentials(**json.loads(paths.credentials(username).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def _hash_matches(passwd: Path, credentials: Credentials) -> bool:
    """Tell whether the password file already holds ``credentials``' password."""
    hashed = read_password_file(passwd).get(credentials.username)
    return hashed is not None and verify_password(credentials.password, hashed)


# --- configuration -------------------------------------------------------------------------


def render_config(
    data_dir: Path | str,
    *,
    port: int = DEFAULT_PORT,
    bind_address: str = DEFAULT_BIND_ADDRESS,
    run_as_user: str | None = None,
) -> BrokerPaths:
    """Write the broker's config and ACL into ``data_dir`` and return their paths.

    ``run_as_user`` defaults to the user rendering the files, so Mosquitto (which drops to
    that user before reading them when started as root) can still read them.
    """
    paths = broker_paths(data_dir)
    values = {
        "port": str(port),
        "bind_address": bind_address,
        "run_as_user": run_as_user or getpass.getuser(),
        "password_file": str(paths.passwd),
        "acl_file": str(paths.acl),
        "persistence_dir": str(paths.persistence_dir),
        "pid_file": str(paths.pid),
    }
    for name, value in values.items():
        if not value or any(c in value for c in "\r\n"):
            raise ValueError(f"{name} {value!r} cannot go into a Mosquitto config")
    template = string.Template(CONFIG_TEMPLATE.read_text(encoding="utf-8"))
    _write_private(paths.acl, ACL_SOURCE.read_text(encoding="utf-8"))
    _write_private(paths.config, template.substitute(values))
    if not paths.passwd.exists():
        _write_private(paths.passwd, "")
    return paths


def prepare_broker(
    data_dir: Path | str,
    *,
    port: int,
    bind_address: str = DEFAULT_BIND_ADDRESS,
    kiosks: Iterable[str] = (),
    site: str = DEFAULT_SITE,
) -> tuple[BrokerPaths, dict[str, Credentials]]:
    """Render the config and provision the hub and ``kiosks``; return paths and credentials."""
    credentials = {HUB_USERNAME: ensure_hub_credentials(data_dir)}
    for kiosk_id in kiosks:
        credentials[kiosk_id] = provision_kiosk(data_dir, kiosk_id, site=site)
    return render_config(data_dir, port=port, bind_address=bind_address), credentials


# --- files ---------------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(paths: BrokerPaths) -> Iterator[None]:
    """Hold the data directory's provisioning lock, so two provisioners cannot lose an entry."""
    with open(paths.root / ".provision.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
