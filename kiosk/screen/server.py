"""Serve the kiosk screen with waitress, in a thread of the kiosk process."""

from __future__ import annotations

import logging
import threading
from typing import Any

import waitress

log = logging.getLogger("commonshed.kiosk.screen")


class ScreenServer:
    """A waitress server for ``app`` on ``host:port`` (port 0: any free port)."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = 6) -> None:
        self.server = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="commonshed-kiosk",
            clear_untrusted_proxy_headers=True,
        )
        self.host, self.port = host, self.server.effective_port
        self._thread = threading.Thread(target=self.server.run, name="kiosk-screen", daemon=True)

    @property
    def url(self) -> str:
        """The screen's address."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> ScreenServer:
        """Start serving in the background."""
        self._thread.start()
        log.info("kiosk screen at %s/", self.url)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listening socket and every connection, then the request threads."""
        # NOTE: waitress's loop runs until its socket map is empty; closing sockets from this
        # thread would race its poll(), so the closing runs on the loop's own thread.
        if self._thread.is_alive():
            try:
                self.server.trigger.pull_trigger(self._close_all)
            except OSError:  # the loop closed its trigger on its way out already
                log.debug("kiosk screen loop already stopped")
        self._thread.join(timeout)
        self.server.task_dispatcher.shutdown(timeout=timeout)

    def _close_all(self) -> None:
        for channel in list(self.server._map.values()):
            if channel is not self.server and channel is not self.server.trigger:
                channel.close()
        self.server.close()  # the listening socket and the trigger
