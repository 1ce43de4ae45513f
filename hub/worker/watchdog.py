"""Tell systemd the ingest is ready, and keep telling its watchdog it is alive.

The ``sd_notify`` protocol is one datagram per message to the unix socket named by
``$NOTIFY_SOCKET`` (a leading '@' names an abstract socket). With ``Type=notify`` systemd waits
for ``READY=1``; with ``WatchdogSec=`` it restarts the service when no ``WATCHDOG=1`` arrives in
time. Without ``$NOTIFY_SOCKET`` (not under systemd) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("commonshed.ingest")
NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
DEFAULT_HEARTBEAT_S = 5.0


class SystemdNotifier:
    """Send ``sd_notify`` messages to ``$NOTIFY_SOCKET``, if there is one."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get(NOTIFY_SOCKET_ENV)
        self.address = "\0" + address[1:] if address and address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self.address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def ready(self) -> None:
        """Say the service has started (``Type=notify`` waits for this)."""
        self._send("READY=1")

    def heartbeat(self) -> None:
        """Tell the watchdog the service is alive and working."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """Say the service is shutting down."""
        self._send("STOPPING=1")

    def close(self) -> None:
        """Close the socket (safe twice)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, message: str) -> None:
        if self._socket is None or not self.address:
            return
        try:
            self._socket.sendto(message.encode(), self.address)
        except OSError as error:  # systemd gone or socket full: nothing the ingest can do
            log.warning("could not notify systemd (%s): %s", message, error)


def heartbeat_interval() -> float:
    """Return how often to beat: half the watchdog's timeout (``$WATCHDOG_USEC``), else 5 s."""
    usec = os.environ.get(WATCHDOG_USEC_ENV, "")
    return int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else DEFAULT_HEARTBEAT_S
