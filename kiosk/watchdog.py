"""Tell systemd the kiosk is ready, and keep its watchdog fed only while the loops work.

The ``NOTIFY_SOCKET`` protocol directly (a datagram of ``KEY=value`` lines to a unix socket,
``@`` meaning the abstract namespace): it is a few lines, and it keeps the kiosk free of one
more dependency on the Pi. With ``Type=notify`` and ``WatchdogSec=`` in the unit, systemd
passes ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``; a kiosk whose loops stop making progress stops
sending ``WATCHDOG=1`` and is killed and restarted. Off systemd (no ``NOTIFY_SOCKET``) every
call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

log = logging.getLogger("commonshed.kiosk.watchdog")

DEFAULT_INTERVAL_S = 10.0  # without WATCHDOG_USEC: how often to look (nothing is sent anyway)


class Notifier:
    """Send sd_notify messages to the socket named by ``NOTIFY_SOCKET``, if any."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        self.watchdog_seconds = int(usec) / 1_000_000 if usec.isdigit() else None

    @property
    def enabled(self) -> bool:
        """Whether systemd listens (a NOTIFY_SOCKET was given)."""
        return bool(self.address)

    def notify(self, message: str) -> bool:
        """Send ``message`` (e.g. ``READY=1``); return whether it was sent."""
        if not self.enabled:
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # NOTE: never block: a listener that does not read (its queue holds 10 datagrams)
            # must not freeze the heartbeat, nor the kiosk's stop.
            sock.setblocking(False)
            try:
                sock.sendto(message.encode(), self.address)
            except OSError as error:  # systemd gone, restarting or not reading
                log.warning("could not notify systemd (%s): %s", message, error)
                return False
        return True


class Heartbeat:
    """Send ``WATCHDOG=1`` every half watchdog period while ``healthy()`` holds."""

    def __init__(
        self,
        notifier: Notifier,
        healthy: Callable[[], bool],
        *,
        interval: float | None = None,
    ) -> None:
        period = notifier.watchdog_seconds
        self.interval = interval or (period / 2 if period else DEFAULT_INTERVAL_S)
        self.notifier, self.healthy = notifier, healthy
        self.beats = 0  # WATCHDOG=1 sent
        self.checks = 0  # times the loops were looked at
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-watchdog", daemon=True)

    def start(self) -> Heartbeat:
        """Say READY=1 and start beating."""
        self.notifier.notify("READY=1")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Say STOPPING=1 and stop beating."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.notifier.notify("STOPPING=1")

    def _run(self) -> None:
        silent = False
        while not self._stopping.wait(self.interval):
            self.checks += 1
            if self.healthy():
                self.beats += self.notifier.notify("WATCHDOG=1")
                silent = False
            elif not silent:  # once per silence: systemd will say the rest
                log.error("a kiosk loop makes no progress: the watchdog is no longer fed")
                silent = True
