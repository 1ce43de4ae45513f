"""A site broker per shed, bridged to the network's broker: the ordinary Mosquitto bridge.

Kiosks connect to their site's Mosquitto (on the site's box, or on one of its kiosks). The
site broker carries ``commonshed/v1/<site>/...`` to the network's broker and back at QoS 1,
over a persistent bridge session (``cleansession false``), queueing while the link is down:

- out (kiosk -> hub): each kiosk's events, status and requests;
- in (hub -> kiosk): each kiosk's acks, allow-list, config and responses, and the hub's status.

The bridge logs in to the network's broker as ``site-<site>`` (``provision_site_bridge``),
whose rules there confine it to its own site's tree (``dynsec.site_bridge_acls``): a stolen
site box can speak for its own kiosks only. Its state ("1" connected, "0" cut off: Mosquitto's
bridge notification with a will) is retained on ``commonshed/v1/<site>/bridge/state`` for the
hub. Over a network you do not own, give the bridge TLS (``bridge_cafile``: see
``render_bridge``'s ``cafile``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from broker.dynsec import KIOSK_SUBSCRIBES
from broker.provision import (
    BrokerPaths,
    Credentials,
    broker_paths,
    prepare_broker,
    write_private,
)
from broker.topics import (
    HUB_STATUS_TOPIC,
    KIOSK_PUBLISHES,
    bridge_state_topic,
    site_bridge_username,
    site_prefix,
    validate_site_id,
)

RESTART_TIMEOUT = "1 15"  # the bridge retries after 1 s, backing off to 15 s


@dataclass(frozen=True)
class Central:
    """Where the network's broker listens, and the CA that signs its certificate (TLS)."""

    host: str
    port: int
    cafile: str | None = None


def render_bridge(site: str, central: Central, bridge: Credentials) -> str:
    """Return the bridge section of site ``site``'s broker config."""
    site = validate_site_id(site)
    prefix = site_prefix(site)
    for value in (central.host, bridge.password, central.cafile or ""):
        if any(c in value for c in "\r\n \t#"):
            raise ValueError(f"{value!r} cannot go into a Mosquitto config")
    lines = [
        "",
        f"# --- the bridge of site {site} to the network's broker (broker/sites.py) -----------",
        f"connection commonshed-{site}",
        f"address {central.host}:{central.port}",
        "bridge_protocol_version mqttv50",
        f"remote_clientid {site_bridge_username(site)}",
        f"remote_username {bridge.username}",
        f"remote_password {bridge.password}",
        f"local_clientid bridge-{site}",
        # A persistent session both ways: what crosses while the link is down waits.
        "cleansession false",
        f"restart_timeout {RESTART_TIMEOUT}",
        "keepalive_interval 15",
        "notifications true",
        "notifications_local_only false",
        f"notification_topic {bridge_state_topic(site)}",
        "try_private true",
        "bridge_attempt_unsubscribe false",
    ]
    if central.cafile:
        lines.append(f"bridge_cafile {central.cafile}")
    lines += [f"topic kiosk/+/{ch} out 1 {prefix} {prefix}" for ch in sorted(KIOSK_PUBLISHES)]
    lines += [f"topic kiosk/+/{ch} in 1 {prefix} {prefix}" for ch in KIOSK_SUBSCRIBES]
    lines.append(f"topic {HUB_STATUS_TOPIC} in 1")
    return "\n".join(lines) + "\n"


def write_bridge(data_dir: Path | str, site: str, central: Central, bridge: Credentials) -> Path:
    """Keep site ``site``'s bridge in its broker's data directory (0600: it holds a password);
    every rendering of that broker's config (``broker run``, tests) ends with it."""
    paths = broker_paths(data_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    write_private(paths.bridge, render_bridge(site, central, bridge))
    return paths.bridge


def prepare_site_broker(
    data_dir: Path | str,
    *,
    site: str,
    port: int,
    central: Central,
    bridge: Credentials,
    kiosks: Iterable[str] = (),
    bind_address: str = "127.0.0.1",
) -> tuple[BrokerPaths, dict[str, Credentials]]:
    """Render site ``site``'s broker (its kiosks, no hub) with its bridge to ``central``."""
    write_bridge(data_dir, site, central, bridge)
    return prepare_broker(
        data_dir, port=port, bind_address=bind_address, kiosks=kiosks, site=site, with_hub=False
    )
