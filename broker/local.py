"""A throwaway Mosquitto of the project's own config, for tests, benchmarks and demos.

It provisions the hub and some kiosks in a data directory, renders the config on a free
port, runs Mosquitto, and connects clients as any of its users.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt

from broker.client import Will, connect_and_wait, make_client
from broker.provision import prepare_broker, provision_site_bridge, render_config
from broker.runner import BrokerFailed, MosquittoProcess, free_port
from broker.sites import Central, write_bridge
from broker.topics import HUB_USERNAME, Channel, kiosk_topic

_START_ATTEMPTS = 3  # a "free" port can be taken between free_port() and Mosquitto's bind


class LocalBroker:
    """A Mosquitto in ``data_dir`` with credentials for ``hub`` and each of ``kiosks``; or,
    with ``bridge_to`` (a running network broker), a site broker for ``kiosks`` bridged to it
    (``broker.sites``: no hub here, the site's bridge credentials provisioned there)."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        kiosks: Iterable[str] = ("kiosk-a", "kiosk-b"),
        site: str = "test",
        host: str = "127.0.0.1",
        bridge_to: LocalBroker | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.site = site
        self.host = host
        self.port = free_port(host)
        if bridge_to is not None:
            bridge = provision_site_bridge(bridge_to.data_dir, site)
            write_bridge(self.data_dir, site, Central(bridge_to.host, bridge_to.port), bridge)
        self.paths, self.credentials = prepare_broker(
            self.data_dir,
            port=self.port,
            bind_address=host,
            kiosks=kiosks,
            site=site,
            with_hub=bridge_to is None,
        )
        self.process = MosquittoProcess(
            self.paths.config, host=host, port=self.port, log_path=self.paths.log
        )
        self._clients: list[mqtt.Client] = []
        self._client_numbers = itertools.count(1)
        self._started_once = False

    def start(self, *, timeout: float = 10.0) -> None:
        """Start Mosquitto (again) on this broker's port; the first start may pick a new port."""
        if self._started_once:
            self.process.start(timeout=timeout)
            return
        for attempt in range(_START_ATTEMPTS):
            try:
                self.process.start(timeout=timeout)
                break
            except BrokerFailed:
                if attempt == _START_ATTEMPTS - 1:
                    raise
                self._move_to_port(free_port(self.host))
        self._started_once = True

    def stop(self) -> None:
        """Stop Mosquitto cleanly (SIGTERM: it writes its persistence snapshot)."""
        self.process.stop()

    def kill(self) -> None:
        """Kill Mosquitto (SIGKILL: no last snapshot)."""
        self.process.kill()

    def restart(self) -> None:
        """Stop and start Mosquitto on the same port."""
        self.stop()
        self.start()

    def topic(self, kiosk_id: str, channel: Channel | str) -> str:
        """Return the topic of ``channel`` of ``kiosk_id`` at this broker's site."""
        return kiosk_topic(self.site, kiosk_id, channel)

    def connect(
        self,
        username: str | None,
        *,
        password: str | None = None,
        client_id: str | None = None,
        clean_start: bool = True,
        session_expiry: int = 0,
        will: Will | None = None,
        on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None] | None = None,
        timeout: float = 5.0,
    ) -> mqtt.Client:
        """Return a client connected as ``username`` (None: anonymous), its loop running.

        The password defaults to the user's provisioned one, and a kiosk's client id to its
        kiosk id (the only one the broker lets it use). Pass ``on_message`` to catch what a
        persistent session delivers the moment it connects. ``close()`` disconnects it.
        """
        if password is None and username in self.credentials:
            password = self.credentials[username].password
        if client_id is None and username in self.credentials and username != HUB_USERNAME:
            client_id = username
        client = make_client(
            client_id or f"{username or 'anonymous'}-{next(self._client_numbers)}",
            username,
            password,
            host=self.host,
            port=self.port,
            clean_start=clean_start,
            session_expiry=session_expiry,
            will=will,
        )
        client.on_message = on_message
        connect_and_wait(client, timeout=timeout)
        self._clients.append(client)
        return client

    def log_text(self) -> str:
        """Return what Mosquitto has logged so far."""
        return self.process.log_text()

    def close(self) -> None:
        """Disconnect every client this broker connected, and stop Mosquitto."""
        try:
            for client in self._clients:
                client.disconnect()
                client.loop_stop()
            self._clients.clear()
        finally:
            self.stop()

    def _move_to_port(self, port: int) -> None:
        """Render the config for ``port`` and point the process at it."""
        self.port = port
        render_config(self.data_dir, port=port, bind_address=self.host)
        self.process.port = port

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
