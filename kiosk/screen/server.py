"""Serve the kiosk screen with waitress, in a thread of the kiosk process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from kiosk.supervisor import LoopGuard, Supervisor

log = logging.getLogger("commonshed.kiosk.screen")


class _Closable(Protocol):
    def close(self) -> None: ...


class _Trigger(_Closable, Protocol):
    def pull_trigger(self, thunk: Callable[[], object]) -> None: ...


class _Dispatcher(Protocol):
    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool: ...


class _Adjustments(Protocol):
    asyncore_loop_timeout: int
    asyncore_use_poll: bool


class _WaitressServer(Protocol):
    """What this module uses of waitress's TcpWSGIServer, internals included.

    NOTE: types-waitress leaves out ``effective_port``, types ``trigger`` as an int (it is a
    ``waitress.trigger.trigger`` whose thunks take no argument) and the shutdown timeout as
    an int (any number of seconds works), hence this description.
    """

    effective_port: int
    trigger: _Trigger
    task_dispatcher: _Dispatcher
    _map: Mapping[int, _Closable]

    adj: _Adjustments

    def run(self) -> None: ...

    def close(self) -> None: ...


class ScreenServer:
    """A waitress server for ``app`` on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        app: Flask,
        host: str,
        port: int,
        *,
        threads: int = 6,
        guard: LoopGuard | None = None,
    ) -> None:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="commonshed-kiosk",
            clear_untrusted_proxy_headers=True,
        )
        # One host and port: a single TcpWSGIServer, never a MultiSocketServer.
        self.server = cast(_WaitressServer, server)
        self.host, self.port = host, self.server.effective_port
        self._guard = guard or Supervisor().guard("kiosk-screen")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-screen", daemon=True)

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
        self._stopping.set()
        if self._thread.is_alive():
            try:
                self.server.trigger.pull_trigger(self._close_all)
            except OSError:  # the loop closed its trigger on its way out already
                log.debug("kiosk screen loop already stopped")
        self._thread.join(timeout)
        self.server.task_dispatcher.shutdown(timeout=timeout)

    def _run(self) -> None:
        self._guard.run(self._serve_once, self._stopping)
        if self.server._map:  # stopped during a back-off: the loop cannot close them now
            self._close_all()

    def _serve_once(self) -> bool:
        """Run one round of waitress's loop; return False once its sockets are all closed.

        NOTE: waitress's own ``run()`` loops until its map is empty and ends for good on the
        first exception; one round at a time lets the supervisor log, retry and see progress.
        """
        wasyncore.loop(
            timeout=self.server.adj.asyncore_loop_timeout,
            map=cast(Mapping[int, Any], self.server._map),
            use_poll=self.server.adj.asyncore_use_poll,
            count=1,
        )
        return bool(self.server._map)

    def _close_all(self) -> None:
        for channel in list(self.server._map.values()):
            if channel is not self.server and channel is not self.server.trigger:
                channel.close()
        self.server.close()  # the listening socket and the trigger
