"""The MQTT topic tree: every topic name the kiosks and the hub use is built here.

    commonshed/v1/<site>/kiosk/<kiosk_id>/<channel>

The kiosk id is also the kiosk's MQTT username and client id, and the broker gives each kiosk
a role confined to its own subtree (see ``broker/dynsec.py``). The version segment lets a v2
tree run beside v1 during an upgrade; the site segment lets sites bridge their brokers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "commonshed"
VERSION = "v1"
HUB_USERNAME = "hub"
HUB_SHARE_GROUP = "hub"
# Same rule as an MQTT username in the ACL: no '/', '+', '#', '%' can ever reach a pattern.
KIOSK_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
SITE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
# NOTE: "hub" is the hub's MQTT username; a kiosk of that name would share its identity. A
# site's bridge logs in to the network's broker as "site-<site>" (``site_bridge_username``).
RESERVED_KIOSK_IDS = frozenset({HUB_USERNAME})
SITE_BRIDGE_PREFIX = "site-"
# NOTE: the hub's own topics live under commonshed/v1/hub/ (its retained status); a site of
# that name would put kiosk topics inside the hub's subtree.
RESERVED_SITE_IDS = frozenset({HUB_USERNAME})

_KIOSK_ID = re.compile(KIOSK_ID_PATTERN)
_SITE_ID = re.compile(SITE_ID_PATTERN)


class Channel(StrEnum):
    """The last segment of a kiosk topic: what flows there."""

    EVENTS = "events"  # kiosk -> hub, QoS 1, the outbox's events
    STATUS = "status"  # kiosk -> hub, QoS 1, retained availability; the last will says offline
    REQUESTS = "requests"  # kiosk -> hub, QoS 1, MQTT v5 requests
    ACKS = "acks"  # hub -> kiosk, QoS 1, application-level acknowledgements of events
    ALLOWLIST = "allowlist"  # hub -> kiosk, QoS 1, retained
    CONFIG = "config"  # hub -> kiosk, QoS 1, retained
    RESPONSES = "responses"  # hub -> kiosk, QoS 1, responses to requests


KIOSK_PUBLISHES = frozenset({Channel.EVENTS, Channel.STATUS, Channel.REQUESTS})
HUB_PUBLISHES = frozenset({Channel.ACKS, Channel.ALLOWLIST, Channel.CONFIG, Channel.RESPONSES})
RETAINED = frozenset({Channel.STATUS, Channel.ALLOWLIST, Channel.CONFIG})


class ForeignTopic(ValueError):
    """A topic that is not part of the Commonshed v1 kiosk tree."""


@dataclass(frozen=True)
class KioskTopic:
    """A kiosk topic taken apart."""

    site: str
    kiosk_id: str
    channel: Channel

    def __str__(self) -> str:
        return kiosk_topic(self.site, self.kiosk_id, self.channel)

    def topic_of(self, channel: Channel) -> str:
        """Return the topic of ``channel`` of the same kiosk (where to answer a message)."""
        return kiosk_topic(self.site, self.kiosk_id, channel)


def validate_kiosk_id(kiosk_id: str) -> str:
    """Return ``kiosk_id`` unchanged if it is a valid kiosk id, else raise ValueError."""
    if not isinstance(kiosk_id, str) or not _KIOSK_ID.fullmatch(kiosk_id):
        raise ValueError(
            f"kiosk id {kiosk_id!r} must be 1-32 lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )
    if kiosk_id in RESERVED_KIOSK_IDS:
        raise ValueError(f"kiosk id {kiosk_id!r} is reserved: it is the hub's own MQTT username")
    if kiosk_id.startswith(SITE_BRIDGE_PREFIX):
        raise ValueError(
            f"kiosk id {kiosk_id!r} is reserved: '{SITE_BRIDGE_PREFIX}...' names a site's bridge"
        )
    return kiosk_id


def validate_site_id(site: str) -> str:
    """Return ``site`` unchanged if it is a valid site id, else raise ValueError."""
    if not isinstance(site, str) or not _SITE_ID.fullmatch(site):
        raise ValueError(
            f"site id {site!r} must be 1-32 lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )
    if site in RESERVED_SITE_IDS:
        raise ValueError(f"site id {site!r} is reserved: the hub's own topics live under it")
    return site


def kiosk_topic(site: str, kiosk_id: str, channel: Channel | str) -> str:
    """Return the topic of ``channel`` for kiosk ``kiosk_id`` at ``site``."""
    validate_site_id(site)
    validate_kiosk_id(kiosk_id)
    return f"{ROOT}/{VERSION}/{site}/kiosk/{kiosk_id}/{Channel(channel)}"


def kiosk_filter(channel: Channel | str, *, site: str = "+") -> str:
    """Return the hub's filter for ``channel`` of every kiosk (of one site, or of all: '+')."""
    if site != "+":
        validate_site_id(site)
    return f"{ROOT}/{VERSION}/{site}/kiosk/+/{Channel(channel)}"


def shared_filter(channel: Channel | str, *, group: str = HUB_SHARE_GROUP, site: str = "+") -> str:
    """Return ``kiosk_filter`` as an MQTT v5 shared subscription, so hub workers split the load."""
    return f"$share/{group}/{kiosk_filter(channel, site=site)}"


# The hub's own availability (``HUB_STATUS_TOPIC``, retained; its last will says offline).
# Kiosks watch it to resend their unacknowledged events the moment the hub is back (its
# subscriptions are in place by then) instead of waiting for their ack timeout.


def hub_online_payload(online: bool, *, worker: str = "") -> bytes:
    """Return the hub status payload: ``{"online": true|false, "worker": ...}``."""
    return json.dumps({"online": online, "worker": worker}, separators=(",", ":")).encode()


def hub_is_online(payload: bytes) -> bool:
    """Tell whether a hub status payload says online (anything unreadable says no)."""
    try:
        decoded = json.loads(payload)
    except ValueError:
        return False
    return isinstance(decoded, dict) and decoded.get("online") is True


def parse_topic(topic: str) -> KioskTopic:
    """Take a kiosk topic apart; raise ForeignTopic naming what does not fit."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != ROOT or parts[3] != "kiosk":
        raise ForeignTopic(
            f"topic {topic!r} is not of the form {ROOT}/{VERSION}/<site>/kiosk/<kiosk_id>/<channel>"
        )
    root, version, site, _, kiosk_id, channel = parts
    if version != VERSION:
        raise ForeignTopic(f"topic {topic!r} is protocol {version!r}; this build speaks {VERSION}")
    try:
        validate_site_id(site)
        validate_kiosk_id(kiosk_id)
        return KioskTopic(site, kiosk_id, Channel(channel))
    except ValueError as error:
        raise ForeignTopic(f"topic {topic!r}: {error}") from None


def kiosk_subtree(site: str, kiosk_id: str) -> str:
    """Return the filter matching every topic of one kiosk (for tools and tests)."""
    return f"{ROOT}/{VERSION}/{validate_site_id(site)}/kiosk/{validate_kiosk_id(kiosk_id)}/#"


HUB_EVENTS_SHARED = shared_filter(Channel.EVENTS)
HUB_STATUS_FILTER = kiosk_filter(Channel.STATUS)
HUB_REQUESTS_SHARED = shared_filter(Channel.REQUESTS)
# The hub's own retained status, which every kiosk may read.
HUB_STATUS_TOPIC = f"{ROOT}/{VERSION}/hub/status"


def site_bridge_username(site: str) -> str:
    """Return the username (and client id) a site's bridge logs in to the network's broker as."""
    return f"{SITE_BRIDGE_PREFIX}{validate_site_id(site)}"


def bridge_state_topic(site: str) -> str:
    """Return where a site's bridge says whether it is connected: "1" up, "0" cut off
    (Mosquitto's bridge notification, retained, with "0" as its will on the network's broker)."""
    return f"{ROOT}/{VERSION}/{validate_site_id(site)}/bridge/state"


BRIDGE_STATE_FILTER = f"{ROOT}/{VERSION}/+/bridge/state"  # the hub watches every site's link
_BRIDGE_STATE = re.compile(rf"^{ROOT}/{VERSION}/([a-z0-9][a-z0-9-]{{0,31}})/bridge/state$")


def bridge_site_of(topic: str) -> str | None:
    """Return the site whose bridge state ``topic`` is, or None if it is no such topic."""
    found = _BRIDGE_STATE.match(topic)
    return found.group(1) if found and found.group(1) not in RESERVED_SITE_IDS else None


def site_prefix(site: str) -> str:
    """Return the topic prefix of every kiosk of ``site``, with the trailing '/'."""
    return f"{ROOT}/{VERSION}/{validate_site_id(site)}/"
