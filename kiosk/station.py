"""A whole kiosk: reader, lockers, feedback, stores, session, MQTT link and screen.

One worker thread owns the session and the SQLite files; everything else hands it work
through ``commands``: the card reader's thread, gpiozero's door callbacks, paho's network
thread (allow-lists, configs) and the screen's request threads. So a decision never waits on
a lock, and no callback touches the database.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Generic, Protocol, TypedDict, TypeVar

from gpiozero.pins import Factory

from devices.feedback import Feedback
from devices.lockers import LockerBank, LockerEvent
from devices.lockers.mcp23017 import open_smbus
from devices.rfid import CardReader
from kiosk.allowlist import AllowListStore, Document
from kiosk.config import KioskSettings
from kiosk.health import KioskHealth, LocksSafety, short_error
from kiosk.link import Link
from kiosk.lockers import LockerView
from kiosk.outbox import Outbox
from kiosk.screen import create_screen
from kiosk.screen.board import ScreenBoard
from kiosk.screen.server import ScreenServer
from kiosk.session import BadEntry, NotNow, ScreenView, Session
from kiosk.simulation import SimulatedHardware
from kiosk.storage import open_database
from kiosk.supervisor import Supervisor

log = logging.getLogger("commonshed.kiosk")

TICK_SECONDS = 0.1
READER_PROBLEM = "Card reader not working — please tell a steward"
Result = TypeVar("Result")


class LinkOptions(TypedDict, total=False):
    """Link keywords a test or a simulation may set (see kiosk.link.Link)."""

    max_in_flight: int
    ack_timeout: float
    status_interval: float


class OutboxFigures(TypedDict):
    """The outbox as the screen shows it."""

    backlog: int
    next_seq: int
    rejected: list[dict[str, object]]  # the latest kiosk.outbox.Rejection, as dicts


class KioskView(OutboxFigures):
    """The kiosk's own line on the screen."""

    id: str
    name: str
    online: bool
    allowlist_version: int | None
    config_version: int | None
    reader_problem: str | None  # shown on the screen while the card reader does not work
    timezone: str | None  # the site's, from the hub's config: the screen's clock follows it


class StationView(ScreenView):
    """What the screen board shows: the session's screen and the kiosk's line."""

    kiosk: KioskView


class Work(Protocol):
    """What the worker thread needs of a queued command."""

    done: threading.Event

    def run(self, session: Session) -> None: ...


class Command(Generic[Result]):
    """Work for the worker thread, and a way to wait for its result."""

    result: Result  # set by run(), unless it raised

    def __init__(self, action: Callable[[Session], Result]) -> None:
        self.action = action
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self, session: Session) -> None:
        try:
            self.result = self.action(session)
        except (NotNow, BadEntry) as refused:
            self.error = refused
        except Exception as error:  # noqa: BLE001  (logged; the kiosk carries on)
            log.exception("a kiosk command failed")
            self.error = error

    def wait(self, timeout: float) -> Result:
        if not self.done.wait(timeout):
            raise TimeoutError(f"the kiosk did not answer within {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result


class Station:
    """A kiosk: start() it, drive it through its reader and screen, stop() it."""

    def __init__(
        self,
        settings: KioskSettings,
        *,
        reader: CardReader | Callable[[], CardReader],
        pin_factory: Factory | None = None,
        simulation: SimulatedHardware | None = None,
        connect: bool = True,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
        link_options: LinkOptions | None = None,
        supervisor: Supervisor | None = None,
        locks_safety: LocksSafety | None = None,
    ) -> None:
        """Build the kiosk's parts: the lockers first (every relay driven to locked), then
        the reader (``reader`` may be a function that opens it), feedback and the link."""
        self.settings, self.simulation, self.locks_safety = settings, simulation, locks_safety
        self.supervisor = supervisor or Supervisor(max_failures=settings.max_loop_failures)
        self.clock, self.utcnow = clock, utcnow
        self.commands: queue.Queue[Work] = queue.Queue()
        self.board = ScreenBoard()
        self.versions: tuple[int | None, int | None] = (None, None)
        self.figures: OutboxFigures = {"backlog": 0, "next_seq": 0, "rejected": []}
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._worker = threading.Thread(target=self._run, name="kiosk-worker", daemon=True)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:  # a part that fails to build closes those built before it
            self.bank = stack.enter_context(
                LockerBank.from_config(
                    settings.lockers,
                    pin_factory=pin_factory,
                    open_i2c=open_smbus if simulation is None else simulation.open_i2c,
                )
            )
            # NOTE: only now the reader: a reader that fails to open must find every relay
            # already driven to locked, never left undriven.
            self.reader = stack.enter_context(reader() if callable(reader) else reader)
            self.feedback = stack.enter_context(
                Feedback(pin_factory=pin_factory, **settings.feedback)
            )
            self.link = self._make_link(link_options or {}) if connect else None
            stack.pop_all()
        self.screen: ScreenServer | None = None

    # --- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0, *, serve_screen: bool = False) -> Station:
        """Start the worker, the link, the reader (and the screen); return once it decides."""
        if self.simulation is not None:
            self.simulation.shut_all_doors()  # before we listen: a closed door is no event
        self.bank.on_event = self._locker_event
        self._worker.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the kiosk's worker did not start")
        if self.link is not None:
            self.link.start()
        self.reader.when_card = self.card_tapped
        self.reader.start()
        if serve_screen:
            self.screen = ScreenServer(
                create_screen(self),
                self.settings.screen_host,
                self.settings.screen_port,
                guard=self.supervisor.guard("kiosk-screen"),
            ).start()
        log.info("kiosk %s is ready", self.settings.kiosk_id)
        return self

    def stop(self) -> None:
        """Stop everything; every lock is left locked (the relays released)."""
        with ExitStack() as stack:  # each part is stopped even if another fails to
            stack.callback(self.bank.close)  # last: the locks, whatever happened before
            stack.callback(self.feedback.close)
            stack.callback(self._stop_worker)
            if self.link is not None:
                stack.callback(self.link.stop)
            stack.callback(self.reader.close)
            if self.screen is not None:
                stack.callback(self.screen.stop)
            stack.callback(self.board.close)  # first: release the pages waiting for news

    def __enter__(self) -> Station:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- inputs from other threads --------------------------------------------------------

    def card_tapped(self, uid: str) -> None:
        """Hand a card the reader saw to the worker (the reader's callback)."""
        self.commands.put(Command(lambda session: session.card_presented(uid)))

    def submit(self, action: Callable[[Session], Result], timeout: float = 5.0) -> Result:
        """Run ``action(session)`` on the worker thread and return its result (or raise)."""
        command = Command(action)
        self.commands.put(command)
        return command.wait(timeout)

    def _locker_event(self, event: LockerEvent) -> None:
        self.commands.put(Command(lambda session: session.locker_event(event)))

    def _snapshot_arrived(self, kind: str, payload: bytes, document: Document) -> None:
        self.commands.put(
            Command(lambda session: self._take_snapshot(session, kind, payload, document))
        )

    # --- the worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        db = open_database(self.settings.data_dir / "kiosk.db", "")
        outbox = Outbox(self.settings.data_dir / "outbox.db", self.settings.kiosk_id)
        try:
            session = self._make_session(db, outbox)
            self._ready.set()
            self.supervisor.guard("kiosk-worker").run(
                lambda: self._step(session, outbox), self._stopping
            )
            self._drain(session, outbox)
        finally:
            outbox.close()
            db.close()

    def _make_session(self, db: sqlite3.Connection, outbox: Outbox) -> Session:
        store = AllowListStore(db, self.settings.kiosk_id)
        store.load()
        self.versions = store.versions
        return Session(
            store=store,
            lockers=LockerView(db, store, self.bank.slots),
            bank=self.bank,
            outbox=outbox,
            feedback=self.feedback,
            session_timeout_s=self.settings.session_timeout_s,
            pulse_seconds=self.settings.pulse_seconds,
            forced_grace_seconds=self.settings.forced_grace_seconds,
            clock=self.clock,
            utcnow=self.utcnow,
            on_event_written=self.link.wake if self.link else lambda: None,
        )

    def _step(self, session: Session, outbox: Outbox) -> None:
        """Run one queued command (if any), the session's clock, and the screen.

        A tick or a drawing that raises goes up to the supervisor, which logs it and retries;
        the command has run by then (a tap opens its locker even if the screen fails), and its
        waiter is released either way.
        """
        try:
            command = self.commands.get(timeout=TICK_SECONDS)
        except queue.Empty:
            command = None
        try:
            if command is not None:
                command.run(session)
            session.tick()
            self._show(session, outbox)
        finally:
            if command is not None:
                command.done.set()  # after the screen shows its outcome (or failed to)

    def _drain(self, session: Session, outbox: Outbox) -> None:
        """Run what is still queued (door events of the last moments must reach the outbox)."""
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return
            command.run(session)
            command.done.set()

    def _show(self, session: Session, outbox: Outbox) -> None:
        self.figures = {
            "backlog": outbox.backlog(),
            "next_seq": outbox.next_seq(),
            "rejected": [r.__dict__ for r in outbox.rejections(3)],
        }
        view: StationView = {**session.screen().as_dict(), "kiosk": self._kiosk_view(session)}
        self.board.show(view)

    def health(self) -> KioskHealth:
        """Return what the kiosk's status says of its parts (safe from any thread)."""
        reader = self.reader.health
        return KioskHealth(
            reader=reader.state,
            reader_reinitialised=reader.reinitialised,
            last_error=short_error(self.supervisor.last_error or reader.error),
            locks_safety=self.locks_safety,
        )

    def _kiosk_view(self, session: Session) -> KioskView:
        config = session.store.config
        return {
            "id": self.settings.kiosk_id,
            "name": config.name if config else self.settings.kiosk_id,
            "online": bool(self.link and self.link.figures.connected),
            "allowlist_version": self.versions[0],
            "config_version": self.versions[1],
            "reader_problem": None if self.reader.health.ok else READER_PROBLEM,
            "timezone": config.timezone if config else None,
            **self.figures,
        }

    def _take_snapshot(
        self, session: Session, kind: str, payload: bytes, document: Document
    ) -> None:
        if session.store.offer(kind, payload, document):
            self.versions = session.store.versions
            if kind == "allowlist":
                session.allowlist_changed()

    def _stop_worker(self) -> None:
        self._stopping.set()
        if self._worker.is_alive():
            self._worker.join(10)

    def _make_link(self, options: LinkOptions) -> Link:
        return Link(
            kiosk_id=self.settings.kiosk_id,
            site=self.settings.site,
            mqtt_settings=self.settings.mqtt.with_password(),
            outbox_path=self.settings.data_dir / "outbox.db",
            on_snapshot=self._snapshot_arrived,
            versions=lambda: self.versions,
            supervisor=self.supervisor,
            health=self.health,
            **options,
        )
