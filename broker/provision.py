"""Broker credentials and configuration, kept in ``<data>/broker/``.

<data>/broker/mosquitto.conf        rendered from broker/mosquitto.conf.template
<data>/broker/dynamic-security.json the dynamic-security plugin's clients and roles (dynsec.py)
<data>/broker/credentials/<user>.json   username, password, site (0600)
<data>/broker/passwd.migrated       the password file of an install from before the plugin
<data>/broker/db/                   Mosquitto persistence
<data>/broker/mosquitto.log, mosquitto.pid
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import secrets
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker.client import ConnectRefused
from broker.dynsec import (
    ADMIN_USERNAME,
    ANY_SITE,
    DynsecAdmin,
    DynsecError,
    Grant,
    PasswordHash,
    admin_grant,
    commands_for,
    drop_client,
    find_client,
    hub_grant,
    kiosk_grant,
    kiosk_role,
    plugin_path,
    put_grant,
    read_config,
    site_bridge_grant,
    site_bridge_role,
)
from broker.runner import running_broker_pid
from broker.topics import (
    HUB_USERNAME,
    site_bridge_username,
    validate_kiosk_id,
    validate_site_id,
)

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_TEMPLATE = PACKAGE_DIR / "mosquitto.conf.template"
DATA_DIR_ENV = "COMMONSHED_DATA_DIR"
DEFAULT_SITE = "main"
DEFAULT_PORT = 1883
DEFAULT_BIND_ADDRESS = "127.0.0.1"
MIGRATED_PASSWD = "passwd.migrated"


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
    def bridge(self) -> Path:
        """A site broker's bridge to the network's broker (``broker.sites``), if it has one."""
        return self.root / "bridge.conf"

    @property
    def dynsec(self) -> Path:
        return self.root / "dynamic-security.json"

    @property
    def acl(self) -> Path:
        """The ACL file of an install from before the plugin (removed by the migration)."""
        return self.root / "acl"

    @property
    def passwd(self) -> Path:
        """The password file of an install from before the plugin (see the migration)."""
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
    """Return a new random password (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def read_password_file(path: Path) -> dict[str, str]:
    """Return username -> hash from a (pre-dynsec) Mosquitto password file, empty if none."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            username, _, hashed = line.partition(":")
            entries[username] = hashed
    return entries


# --- credentials ---------------------------------------------------------------------------


def load_credentials(data_dir: Path | str, username: str) -> Credentials:
    """Return the stored credentials of ``username``; FileNotFoundError if it has none."""
    path = broker_paths(data_dir).credentials(username)
    return Credentials(**json.loads(path.read_text(encoding="utf-8")))


def provision_kiosk(
    data_dir: Path | str, kiosk_id: str, *, site: str = DEFAULT_SITE, rotate: bool = False
) -> Credentials:
    """Give kiosk ``kiosk_id`` broker credentials (kept if it has some, unless ``rotate``).

    A running broker takes the kiosk at once (through the plugin's control topic); a stopped
    one finds it in the plugin's file when it starts.
    """
    return _provision(data_dir, [_kiosk(kiosk_id, site, rotate)])[0]


def provision_site_bridge(data_dir: Path | str, site: str, *, rotate: bool = False) -> Credentials:
    """Give site ``site``'s bridge credentials on the network's broker of ``data_dir``, confined
    to that site's tree (kept if it has some, unless ``rotate``)."""
    site = validate_site_id(site)
    username = site_bridge_username(site)
    wanted = _Wanted(username, site, lambda password: site_bridge_grant(site, password), rotate)
    return _provision(data_dir, [wanted])[0]


def ensure_hub_credentials(data_dir: Path | str, *, rotate: bool = False) -> Credentials:
    """Give the hub broker credentials (kept if it has some, unless ``rotate``)."""
    return _provision(data_dir, [_hub(rotate)])[0]


def ensure_admin_credentials(data_dir: Path | str) -> Credentials:
    """Give the provisioning admin client credentials (kept if it has some)."""
    return _provision(data_dir, [_ADMIN])[0]


def revoke(data_dir: Path | str, kiosk_id: str) -> bool:
    """Remove kiosk ``kiosk_id`` from the broker; tell whether it was there.

    A running broker disconnects the kiosk at once (the plugin kicks a deleted client), and
    it cannot log in again.
    """
    kiosk_id = validate_kiosk_id(kiosk_id)
    return _remove_client(broker_paths(data_dir), kiosk_id, kiosk_role(kiosk_id))


def revoke_site_bridge(data_dir: Path | str, site: str) -> bool:
    """Remove site ``site``'s bridge from the network's broker; tell whether it was there.

    A running broker disconnects the bridge at once, and it cannot log in again: the site's
    kiosks are cut off from the hub (they keep lending from their allow-lists).
    """
    site = validate_site_id(site)
    return _remove_client(
        broker_paths(data_dir), site_bridge_username(site), site_bridge_role(site)
    )


def _remove_client(paths: BrokerPaths, username: str, role: str) -> bool:
    """Remove client ``username`` and its own ``role``; tell whether it was there."""
    with _locked(paths):
        had_credentials = paths.credentials(username).exists()
        config = read_config(paths.dynsec)
        known = find_client(config, username) is not None
        if known and _live_broker(paths):
            with _admin_session(paths) as admin:
                admin.run(
                    [
                        {"command": "deleteClient", "username": username},
                        {"command": "deleteRole", "rolename": role},
                    ]
                )
        elif drop_client(config, username, role):
            write_private(paths.dynsec, json.dumps(config, indent=2))
        paths.credentials(username).unlink(missing_ok=True)
        return had_credentials or known


@dataclass(frozen=True)
class _Wanted:
    """A broker client to provision: who, where, and its grant once its password is known."""

    username: str
    site: str | None
    grant_of: Callable[[str], Grant]
    rotate: bool = False


def _kiosk(kiosk_id: str, site: str, rotate: bool) -> _Wanted:
    kiosk_id, site = validate_kiosk_id(kiosk_id), validate_site_id(site)
    return _Wanted(kiosk_id, site, lambda password: kiosk_grant(kiosk_id, site, password), rotate)


def _hub(rotate: bool = False) -> _Wanted:
    return _Wanted(HUB_USERNAME, None, lambda password: hub_grant(HUB_USERNAME, password), rotate)


_ADMIN = _Wanted(ADMIN_USERNAME, None, admin_grant)


def _provision(data_dir: Path | str, wanted: Sequence[_Wanted]) -> list[Credentials]:
    """Create or reuse each wanted client's credentials and make the broker agree with them."""
    paths = broker_paths(data_dir)
    with _locked(paths):
        given = [_credentials_for(paths, one) for one in wanted]
        # NOTE: compare with the plugin's file too, so a file restored from elsewhere is mended.
        _apply(paths, [one.grant_of(c.password) for one, c in zip(wanted, given, strict=True)])
        return given


def _credentials_for(paths: BrokerPaths, wanted: _Wanted) -> Credentials:
    """Return ``wanted``'s stored credentials (a new password if none, or if rotating)."""
    existing = _stored_credentials(paths, wanted.username)
    if existing is None or wanted.rotate:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        credentials = Credentials(wanted.username, generate_password(), wanted.site, created)
    else:
        credentials = replace(existing, site=wanted.site)
    if credentials != existing:
        write_private(paths.credentials(wanted.username), json.dumps(asdict(credentials), indent=2))
    return credentials


def _apply(paths: BrokerPaths, grants: Sequence[Grant]) -> None:
    """Make the broker hold ``grants``: by command if it runs with the plugin, else in its file."""
    config = read_config(paths.dynsec)
    if _live_broker(paths):
        commands = [command for grant in grants for command in commands_for(config, grant)]
        if commands:
            with _admin_session(paths) as admin:
                admin.run(commands)
        return
    changed = [put_grant(config, grant) for grant in grants]
    if any(changed):
        write_private(paths.dynsec, json.dumps(config, indent=2))


def _stored_credentials(paths: BrokerPaths, username: str) -> Credentials | None:
    """Return ``username``'s stored credentials, if any."""
    try:
        return Credentials(**json.loads(paths.credentials(username).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


# --- the running broker ----------------------------------------------------------------------


def broker_is_running(data_dir: Path | str) -> bool:
    """Tell whether the Mosquitto of ``data_dir`` runs (by its pid file)."""
    return running_broker_pid(broker_paths(data_dir).pid) is not None


def _live_broker(paths: BrokerPaths) -> bool:
    """Tell whether a broker runs on ``paths`` with the plugin (so the plugin owns its file)."""
    if running_broker_pid(paths.pid) is None:
        return False
    try:
        return "plugin_opt_config_file" in paths.config.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


def rendered_listener(paths: BrokerPaths) -> tuple[str, int]:
    """Return the host and port to reach the broker on, from its rendered config."""
    for line in paths.config.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "listener":
            address = words[2] if len(words) > 2 else "0.0.0.0"
            return ("127.0.0.1" if address in ("0.0.0.0", "::") else address), int(words[1])
    raise DynsecError(f"{paths.config} has no listener line")


@contextlib.contextmanager
def _admin_session(paths: BrokerPaths) -> Iterator[DynsecAdmin]:
    """Yield an admin session with the running broker's plugin."""
    admin = _stored_credentials(paths, ADMIN_USERNAME)
    if admin is None:
        raise DynsecError(
            f"no {ADMIN_USERNAME} credentials in {paths.credentials_dir}: "
            "stop the broker and start it with `commonshed broker run`"
        )
    host, port = rendered_listener(paths)
    try:
        session = DynsecAdmin(host, port, admin.password)
    except (OSError, ConnectRefused) as error:
        raise DynsecError(f"cannot reach the running broker on {host}:{port}: {error}") from None
    with session:
        yield session


# --- migration from password_file + acl_file -------------------------------------------------


def migrate_password_file(data_dir: Path | str) -> list[str]:
    """Give every user of a password-file install a dynsec client with the same password.

    Kiosks keep their passwords (the ``$7$`` hashes are the plugin's PBKDF2-SHA512), so no
    kiosk needs touching. A kiosk whose site was never recorded gets the old rules' any-site
    pattern. The password file is renamed ``passwd.migrated``. Return one line per user.
    """
    paths = broker_paths(data_dir)
    with _locked(paths):
        entries = read_password_file(paths.passwd)
        if not entries:
            return []
        if _live_broker(paths):
            raise DynsecError("stop the broker before migrating its password file")
        config = read_config(paths.dynsec)
        report = [_migrate_user(paths, config, user, hashed) for user, hashed in entries.items()]
        write_private(paths.dynsec, json.dumps(config, indent=2))
        paths.passwd.rename(paths.root / MIGRATED_PASSWD)
        paths.acl.unlink(missing_ok=True)
        return report


def _migrate_user(paths: BrokerPaths, config: dict[str, Any], username: str, hashed: str) -> str:
    """Put one password-file user into ``config``; return what became of it."""
    password = PasswordHash.from_passwd(hashed)
    if username == HUB_USERNAME:
        put_grant(config, hub_grant(username, password))
        return f"{username}: hub"
    try:
        validate_kiosk_id(username)
    except ValueError:
        return f"{username}: skipped, not a kiosk id (add it by hand with mosquitto_ctrl)"
    stored = _stored_credentials(paths, username)
    site = stored.site if stored is not None and stored.site else ANY_SITE
    put_grant(config, kiosk_grant(username, site, password))
    where = f"site {site}" if site != ANY_SITE else "any site (no site recorded)"
    return f"{username}: kiosk at {where}, client id {username}"


# --- configuration -------------------------------------------------------------------------


def render_config(
    data_dir: Path | str,
    *,
    port: int = DEFAULT_PORT,
    bind_address: str = DEFAULT_BIND_ADDRESS,
    run_as_user: str | None = None,
) -> BrokerPaths:
    """Write the broker's config into ``data_dir`` and return its paths.

    A site broker's bridge (``paths.bridge``, written by ``broker.sites``) goes at its end.

    The plugin's file gets the admin client if it lacks one. ``run_as_user`` defaults to
    the user rendering the files, so Mosquitto (which drops to that user before reading them
    when started as root) can still read them.
    """
    paths = broker_paths(data_dir)
    ensure_admin_credentials(data_dir)
    values = {
        "port": str(port),
        "bind_address": bind_address,
        "run_as_user": run_as_user or getpass.getuser(),
        "dynsec_plugin": str(plugin_path()),
        "dynsec_file": str(paths.dynsec),
        "persistence_dir": str(paths.persistence_dir),
        "pid_file": str(paths.pid),
    }
    for name, value in values.items():
        if not value or any(c in value for c in "\r\n"):
            raise ValueError(f"{name} {value!r} cannot go into a Mosquitto config")
    template = string.Template(CONFIG_TEMPLATE.read_text(encoding="utf-8"))
    bridge = paths.bridge.read_text(encoding="utf-8") if paths.bridge.exists() else ""
    write_private(paths.config, template.substitute(values) + bridge)
    return paths


def prepare_broker(
    data_dir: Path | str,
    *,
    port: int,
    bind_address: str = DEFAULT_BIND_ADDRESS,
    kiosks: Iterable[str] = (),
    site: str = DEFAULT_SITE,
    with_hub: bool = True,
) -> tuple[BrokerPaths, dict[str, Credentials]]:
    """Render the config and provision the hub (unless a site broker's: ``with_hub`` off) and
    ``kiosks``; return paths and credentials.

    The plugin's file is written once for all of them: the test suite starts many brokers.
    """
    hub = [_hub()] if with_hub else []
    wanted = [_ADMIN, *hub, *(_kiosk(kiosk_id, site, False) for kiosk_id in kiosks)]
    given = _provision(data_dir, wanted)
    credentials = {one.username: one for one in given[1:]}
    paths = render_config(data_dir, port=port, bind_address=bind_address)
    return paths, credentials


# --- files ---------------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
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
