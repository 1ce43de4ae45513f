"""Where kiosks find the broker, for the pages and the API that provision them.

The broker's files live in ``BROKER_DATA_DIR`` (default: the hub's ``DATA_DIR``, as
``commonshed up`` and ``commonshed broker`` keep them); kiosks reach it at ``MQTT_HOST`` (default:
this host's name) and ``MQTT_PORT`` (default: the port of the rendered broker config, else 1883).
Each may be set as ``COMMONSHED_<NAME>`` in the environment.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from broker.dynsec import DynsecError
from broker.provision import DEFAULT_PORT, broker_paths, rendered_listener


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int


def broker_dir() -> Path:
    """Return the data directory whose ``broker/`` holds the broker's credentials."""
    return Path(current_app.config.get("BROKER_DATA_DIR") or current_app.config["DATA_DIR"])


def broker_address() -> BrokerAddress:
    """Return the host and port a kiosk connects to."""
    host = current_app.config.get("MQTT_HOST") or socket.getfqdn()
    port = current_app.config.get("MQTT_PORT") or _rendered_port(broker_dir())
    return BrokerAddress(str(host), int(port))


def _rendered_port(data_dir: Path) -> int:
    try:
        return rendered_listener(broker_paths(data_dir))[1]
    except (FileNotFoundError, DynsecError):
        return DEFAULT_PORT
