"""Who may do what on the broker: Mosquitto's dynamic-security plugin.

Mosquitto checks a subscription against these roles when the client makes it (SUBACK reason
135 when refused). ``acl_file`` only filtered at delivery, so a kiosk could join the hub's
``$share/hub`` group, be handed its round-robin share of every kiosk's messages, and have them
dropped. Each client here has one role of its own:

- a kiosk subscribes only to its own ``acks``, ``allowlist``, ``config``, ``responses`` and to
  the hub's status, publishes only to its own ``events``, ``status``, ``requests``, and must
  connect with its kiosk id as client id (so it cannot take over another client's session);
- the hub reads the whole tree (its workers share ``$share/hub/...``) and publishes what the
  hub sends: ``acks``, ``allowlist``, ``config``, ``responses`` and its own status;
- the admin client drives the plugin on ``$CONTROL/dynamic-security/v1`` and nothing else.

The plugin keeps everything in one JSON file. While the broker is stopped we edit that file
directly, in the plugin's own hash format (PBKDF2-SHA512), which costs nothing at start-up;
while it runs the plugin owns the file, so we send it commands as the admin client instead.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import queue
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt

from broker.client import connect_and_wait, make_client, subscribe_and_wait
from broker.topics import (
    HUB_SHARE_GROUP,
    HUB_STATUS_TOPIC,
    KIOSK_PUBLISHES,
    ROOT,
    VERSION,
    Channel,
    bridge_state_topic,
    site_bridge_username,
)

PLUGIN_ENV = "COMMONSHED_DYNSEC_PLUGIN"
PLUGIN_NAME = "mosquitto_dynamic_security.so"
# Debian/Raspberry Pi OS put it under the multiarch directory (x86_64-linux-gnu,
# aarch64-linux-gnu, arm-linux-gnueabihf); a source build under /usr/local/lib.
PLUGIN_GLOBS = (
    f"/usr/lib/*/{PLUGIN_NAME}",
    f"/usr/lib/{PLUGIN_NAME}",
    f"/usr/lib64/{PLUGIN_NAME}",
    f"/usr/local/lib/{PLUGIN_NAME}",
    f"/usr/local/lib/*/{PLUGIN_NAME}",
)
# NOTE: '_' cannot appear in a kiosk id, so no kiosk can ever be provisioned under this name.
ADMIN_USERNAME = "commonshed_admin"
HUB_ROLE = "hub"
ADMIN_ROLE = "admin"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
# Mosquitto's own default. The passwords are 256-bit random tokens, so more rounds would only
# slow every CONNECT without making a guess any likelier.
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12  # what the plugin expects (the same as mosquitto_passwd's $7$ salts)
ANY_SITE = "+"  # a migrated kiosk whose site was never recorded

# Everything not granted by a role is refused, except receiving what a client subscribed to
# (its subscription was already checked) and unsubscribing.
DEFAULT_ACL_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": True,
    "subscribe": False,
    "unsubscribe": True,
}
KIOSK_SUBSCRIBES = (Channel.ACKS, Channel.ALLOWLIST, Channel.CONFIG, Channel.RESPONSES)
HUB_SENDS = KIOSK_SUBSCRIBES


class DynsecError(RuntimeError):
    """The plugin refused a command, did not answer, or its file cannot be used."""


@dataclass(frozen=True)
class Acl:
    """One rule of a role: allow ``acltype`` on ``topic``."""

    acltype: str
    topic: str

    def as_json(self) -> dict[str, Any]:
        return {"acltype": self.acltype, "topic": self.topic, "priority": 0, "allow": True}


@dataclass(frozen=True)
class PasswordHash:
    """A password as the plugin stores it: PBKDF2-SHA512 digest, salt and rounds."""

    digest: bytes
    salt: bytes
    iterations: int = PBKDF2_ITERATIONS

    @classmethod
    def of(cls, password: str, *, salt: bytes | None = None) -> PasswordHash:
        """Hash ``password`` with a new random salt (or ``salt``)."""
        salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
        return cls(_pbkdf2(password, salt, PBKDF2_ITERATIONS), salt, PBKDF2_ITERATIONS)

    @classmethod
    def from_passwd(cls, hashed: str) -> PasswordHash:
        """Read a ``$7$`` hash of a Mosquitto password file (the same PBKDF2-SHA512)."""
        parts = hashed.strip().split("$")
        if len(parts) != 5 or parts[1] != "7":
            raise ValueError(f"password hash {hashed[:4]!r}... is not a $7$ PBKDF2-SHA512 hash")
        _, _, iterations, salt, digest = parts
        return cls(base64.b64decode(digest), base64.b64decode(salt), int(iterations))

    @classmethod
    def from_client(cls, client: dict[str, Any]) -> PasswordHash:
        """Read the hash of a client in the plugin's file; ValueError if it has none."""
        try:
            digest, salt = base64.b64decode(client["password"]), base64.b64decode(client["salt"])
            return cls(digest, salt, int(client["iterations"]))
        except (KeyError, ValueError, TypeError) as error:
            raise ValueError(f"client {client.get('username')!r} has no usable hash") from error

    def matches(self, password: str) -> bool:
        """Tell whether ``password`` is the one hashed here."""
        return secrets.compare_digest(_pbkdf2(password, self.salt, self.iterations), self.digest)

    def as_json(self) -> dict[str, Any]:
        return {
            "password": base64.b64encode(self.digest).decode("ascii"),
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "iterations": self.iterations,
        }


@dataclass(frozen=True)
class Grant:
    """One broker client: its login, the client id it must use, and its own role."""

    username: str
    password: str | PasswordHash  # plaintext when we made it; a hash when migrated
    role: str
    acls: tuple[Acl, ...]
    clientid: str | None = None
    textname: str = field(default="", compare=False)

    def password_hash(self) -> PasswordHash:
        if isinstance(self.password, PasswordHash):
            return self.password
        return PasswordHash.of(self.password)


# --- who may do what -------------------------------------------------------------------------


def kiosk_prefix(site: str, kiosk_id: str) -> str:
    """Return the topic prefix of one kiosk (``site`` may be '+' for a migrated kiosk)."""
    return f"{ROOT}/{VERSION}/{site}/kiosk/{kiosk_id}"


def kiosk_acls(site: str, kiosk_id: str) -> tuple[Acl, ...]:
    """Return a kiosk's rules: its own topics, each in the one direction it needs."""
    prefix = kiosk_prefix(site, kiosk_id)
    reads = [Acl("subscribePattern", f"{prefix}/{channel}") for channel in KIOSK_SUBSCRIBES]
    reads.append(Acl("subscribePattern", HUB_STATUS_TOPIC))
    sends = sorted(KIOSK_PUBLISHES)
    writes = [Acl("publishClientSend", f"{prefix}/{channel}") for channel in sends]
    return (*reads, *writes)


def hub_acls() -> tuple[Acl, ...]:
    """Return the hub's rules: read everything of ours, send only what the hub sends."""
    every_kiosk = f"{ROOT}/{VERSION}/+/kiosk/+"
    reads = [
        Acl("subscribePattern", f"{ROOT}/#"),
        Acl("subscribePattern", f"$share/{HUB_SHARE_GROUP}/{ROOT}/#"),
        Acl("subscribePattern", "$SYS/#"),
        # NOTE: the plugin's default "receive allowed" does not cover '$' topics.
        Acl("publishClientReceive", "$SYS/#"),
    ]
    writes = [Acl("publishClientSend", f"{every_kiosk}/{channel}") for channel in HUB_SENDS]
    writes.append(Acl("publishClientSend", HUB_STATUS_TOPIC))
    return (*reads, *writes)


def admin_acls() -> tuple[Acl, ...]:
    """Return the admin client's rules: the plugin's control topics only."""
    control = "$CONTROL/dynamic-security/#"
    return (
        Acl("publishClientSend", control),
        Acl("publishClientReceive", control),
        Acl("subscribePattern", control),
    )


def site_bridge_acls(site: str) -> tuple[Acl, ...]:
    """Return a site bridge's rules on the network's broker: its own site's kiosk topics only,
    each in the one direction the bridge carries it, its state topic, and the hub's status."""
    every_kiosk = f"{ROOT}/{VERSION}/{site}/kiosk/+"
    reads = [Acl("subscribePattern", f"{every_kiosk}/{channel}") for channel in KIOSK_SUBSCRIBES]
    reads.append(Acl("subscribePattern", HUB_STATUS_TOPIC))
    writes = [
        Acl("publishClientSend", f"{every_kiosk}/{channel}") for channel in sorted(KIOSK_PUBLISHES)
    ]
    writes.append(Acl("publishClientSend", bridge_state_topic(site)))
    return (*reads, *writes)


def site_bridge_grant(site: str, password: str | PasswordHash) -> Grant:
    """Return the client a site's bridge logs in to the network's broker as."""
    username = site_bridge_username(site)
    return Grant(
        username,
        password,
        site_bridge_role(site),
        site_bridge_acls(site),
        clientid=username,
        textname=f"the bridge of site {site}",
    )


def site_bridge_role(site: str) -> str:
    return f"site:{site}"


def kiosk_role(kiosk_id: str) -> str:
    return f"kiosk:{kiosk_id}"


def kiosk_grant(kiosk_id: str, site: str, password: str | PasswordHash) -> Grant:
    """Return kiosk ``kiosk_id``'s client: bound to its kiosk id as client id."""
    return Grant(
        kiosk_id,
        password,
        kiosk_role(kiosk_id),
        kiosk_acls(site, kiosk_id),
        clientid=kiosk_id,
        textname=f"kiosk {kiosk_id} at site {site}",
    )


def hub_grant(username: str, password: str | PasswordHash) -> Grant:
    """Return the hub's client (any client id: each worker has its own)."""
    return Grant(username, password, HUB_ROLE, hub_acls(), textname="the hub")


def admin_grant(password: str | PasswordHash) -> Grant:
    """Return the admin client that provisions the running broker."""
    return Grant(ADMIN_USERNAME, password, ADMIN_ROLE, admin_acls(), textname="provisioning")


# --- the plugin's file -----------------------------------------------------------------------


def plugin_path() -> Path:
    """Return the plugin library: ``$COMMONSHED_DYNSEC_PLUGIN`` or the first one installed."""
    configured = os.environ.get(PLUGIN_ENV)
    if configured:
        return Path(configured)
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[0])
    raise DynsecError(
        f"{PLUGIN_NAME} not found under /usr/lib or /usr/local/lib: install Debian's "
        f"`mosquitto` package (2.0 or later) or set ${PLUGIN_ENV} to its path"
    )


def empty_config() -> dict[str, Any]:
    """Return a plugin file with nobody in it."""
    return {"defaultACLAccess": dict(DEFAULT_ACL_ACCESS), "clients": [], "groups": [], "roles": []}


def read_config(path: Path) -> dict[str, Any]:
    """Return the plugin's file at ``path`` (an empty one if there is none)."""
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty_config()
    except (ValueError, UnicodeDecodeError) as error:
        raise DynsecError(f"{path} is not the plugin's JSON: {error}") from None
    for key in ("clients", "groups", "roles"):
        config.setdefault(key, [])
    return config


def usernames(config: dict[str, Any]) -> list[str]:
    """Return the usernames of every client in ``config``."""
    return [client["username"] for client in config["clients"]]


def find_client(config: dict[str, Any], username: str) -> dict[str, Any] | None:
    return next((c for c in config["clients"] if c.get("username") == username), None)


def find_role(config: dict[str, Any], rolename: str) -> dict[str, Any] | None:
    return next((r for r in config["roles"] if r.get("rolename") == rolename), None)


def put_grant(config: dict[str, Any], grant: Grant) -> bool:
    """Make ``config`` hold ``grant`` (client and role); tell whether anything changed."""
    changed = False
    role = find_role(config, grant.role)
    if role is None or not _same_acls(role, grant.acls):
        config["roles"] = [r for r in config["roles"] if r.get("rolename") != grant.role]
        config["roles"].append(
            {"rolename": grant.role, "acls": [acl.as_json() for acl in grant.acls]}
        )
        changed = True
    client = find_client(config, grant.username)
    if client is None or _client_differs(client, grant):
        config["clients"] = [c for c in config["clients"] if c.get("username") != grant.username]
        config["clients"].append(_client_json(grant))
        changed = True
    return changed


def drop_client(config: dict[str, Any], username: str, role: str | None) -> bool:
    """Remove ``username`` (and its own ``role``) from ``config``; tell whether it was there."""
    before = len(config["clients"])
    config["clients"] = [c for c in config["clients"] if c.get("username") != username]
    if role is not None:
        config["roles"] = [r for r in config["roles"] if r.get("rolename") != role]
    return len(config["clients"]) != before


def commands_for(config: dict[str, Any], grant: Grant) -> list[dict[str, Any]]:
    """Return the plugin commands that turn the running ``config`` into one holding ``grant``."""
    commands: list[dict[str, Any]] = []
    role = find_role(config, grant.role)
    role_replaced = role is not None and not _same_acls(role, grant.acls)
    if role_replaced:
        commands.append({"command": "deleteRole", "rolename": grant.role})
    if role is None or role_replaced:
        commands.append(
            {
                "command": "createRole",
                "rolename": grant.role,
                "acls": [acl.as_json() for acl in grant.acls],
            }
        )
    client = find_client(config, grant.username)
    if client is None:
        commands.append({"command": "createClient", **_client_command(grant)})
    elif role_replaced or _client_differs(client, grant):
        commands.append({"command": "modifyClient", **_client_command(grant)})
    return commands


def _client_command(grant: Grant) -> dict[str, Any]:
    if isinstance(grant.password, PasswordHash):
        raise DynsecError(
            f"{grant.username}: the running broker takes a password, not a hash; stop it first"
        )
    command: dict[str, Any] = {
        "username": grant.username,
        "password": grant.password,
        "textname": grant.textname,
        "roles": [{"rolename": grant.role}],
    }
    # NOTE: modifyClient keeps a client id it is not told about, so say "none" explicitly.
    command["clientid"] = grant.clientid or ""
    return command


def _client_json(grant: Grant) -> dict[str, Any]:
    client: dict[str, Any] = {"username": grant.username, "textname": grant.textname}
    if grant.clientid:
        client["clientid"] = grant.clientid
    client.update(grant.password_hash().as_json())
    client["roles"] = [{"rolename": grant.role}]
    return client


def _client_differs(client: dict[str, Any], grant: Grant) -> bool:
    """Tell whether the plugin's ``client`` is not (yet) what ``grant`` says."""
    if (client.get("clientid") or None) != grant.clientid or client.get("disabled"):
        return True
    if [r.get("rolename") for r in client.get("roles", [])] != [grant.role]:
        return True
    stored = _stored_hash(client)
    if stored is None:
        return True
    if isinstance(grant.password, PasswordHash):
        return stored != grant.password
    return not stored.matches(grant.password)


def _stored_hash(client: dict[str, Any]) -> PasswordHash | None:
    try:
        return PasswordHash.from_client(client)
    except ValueError:
        return None


def _same_acls(role: dict[str, Any], acls: Iterable[Acl]) -> bool:
    stored = {
        (acl.get("acltype"), acl.get("topic"), acl.get("allow", False))
        for acl in role.get("acls", [])
    }
    return stored == {(acl.acltype, acl.topic, True) for acl in acls}


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)


# --- the running broker ----------------------------------------------------------------------


class DynsecAdmin:
    """An admin session with a running broker's plugin, on its control topic."""

    def __init__(self, host: str, port: int, password: str, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._responses: queue.Queue[bytes] = queue.Queue()
        self._client = make_client(
            f"{ADMIN_USERNAME}-{secrets.token_hex(4)}",
            ADMIN_USERNAME,
            password,
            host=host,
            port=port,
        )
        self._client.on_message = self._on_message
        connect_and_wait(self._client, timeout=timeout)
        try:
            granted = subscribe_and_wait(self._client, RESPONSE_TOPIC, timeout=timeout)
            if granted.is_failure:
                raise DynsecError(f"the broker refused the admin {RESPONSE_TOPIC}: {granted}")
        except BaseException:
            self.close()
            raise

    def run(self, commands: Sequence[dict[str, Any]]) -> None:
        """Send ``commands`` in one message; raise DynsecError naming the first that failed."""
        if not commands:
            return
        payload = json.dumps({"commands": list(commands)}).encode("utf-8")
        self._client.publish(CONTROL_TOPIC, payload, qos=1).wait_for_publish(self.timeout)
        try:
            answer = json.loads(self._responses.get(timeout=self.timeout))
        except queue.Empty:
            raise DynsecError(f"the plugin did not answer within {self.timeout} s") from None
        for sent, response in zip(commands, answer.get("responses", []), strict=False):
            if response.get("error"):
                target = sent.get("username") or sent.get("rolename")
                raise DynsecError(f"{sent['command']} {target}: {response['error']}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._responses.put(bytes(message.payload))

    def __enter__(self) -> DynsecAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
