"""Fault injection through real parts: the ingest heals, or gives up loudly, never goes quiet.

- an exception in each supervised loop: logged, retried, the worker alive and still ingesting;
- PostgreSQL unreachable mid-stream (connections refused and cut) and back: every event sent
  meanwhile is acked ``applied``, fresh events still come in, no restart;
- SQLite held by another process's write lock: the same, once the lock is let go;
- the watchdog: heartbeats reach a real NOTIFY_SOCKET while the loops work, stop while one is
  frozen, and come back when it is released.
(The process that gives up and exits non-zero is in tests/hub/worker/test_ingest_process.py.)
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading

import psycopg
import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from broker import messages as wire
from broker.topics import HUB_STATUS_TOPIC, Channel, hub_is_online
from hub.infra.db import is_sqlite, reading
from hub.inventory.fleet import CardRefusal
from hub.worker import heartbeats as heartbeat_rows
from hub.worker import loop as loop_module
from hub.worker.heartbeats import WorkerHeartbeat
from hub.worker.loop import IngestGaveUp, IngestWorker
from hub.worker.supervisor import Backoff
from hub.worker.watchdog import SystemdNotifier
from tests.fixtures.database import PG_ADMIN_URL
from tests.fixtures.mosquitto import collect
from tests.fixtures.waiting import wait_until
from tests.hub.worker.world import event

QUICK = Backoff(start=0.05, cap=0.5)


def make_worker(engine, mosquitto, **options) -> IngestWorker:
    hub = mosquitto.credentials["hub"]
    settings = dict(
        publish_interval=0.05,
        housekeeping_interval=0.2,
        heartbeat_row_interval=0.1,
        backoff=QUICK,
        max_failures=1000,
    )
    return IngestWorker(
        engine,
        host=mosquitto.host,
        port=mosquitto.port,
        username=hub.username,
        password=hub.password,
        **{**settings, **options},
    )


@pytest.fixture
def worker(library, mosquitto):
    running = make_worker(library, mosquitto).start()
    yield running
    running.stop()


@pytest.fixture
def kiosk(mosquitto):
    client = mosquitto.connect("kiosk-a")
    return client, collect(client, mosquitto.topic("kiosk-a", Channel.ACKS))


class Acks:
    """The hub's acks as kiosk-a collects them, by event id."""

    def __init__(self, inbox) -> None:
        self.inbox, self.seen = inbox, {}

    def take(self) -> dict[str, str]:
        for message in self.inbox.drain():
            ack = wire.decode_ack(message.payload)
            self.seen.setdefault(ack.event_id, ack.status)
        return self.seen


def refused_card(seq: int):
    return event(
        wire.CardRefusedEvent, wire.CardRefused(card_uid="CAFEBABE", reason="unknown_card"), seq=seq
    )


def send(mosquitto, client, message) -> None:
    client.publish(mosquitto.topic("kiosk-a", Channel.EVENTS), wire.encode(message), qos=1)


def send_and_expect_applied(mosquitto, client, acks: Acks, seq: int) -> None:
    sent = refused_card(seq)
    send(mosquitto, client, sent)
    wait_until(lambda: sent.event_id in acks.take(), 60, f"the ack of event {seq}")
    assert acks.seen[sent.event_id] == "applied"


def fail_once(error: Exception, then):
    """Return a callable that raises ``error`` on its first call and calls ``then`` after."""
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        return then(*args, **kwargs)

    return flaky


# --- an exception in each loop --------------------------------------------------------------


def inject(worker: IngestWorker, loop: str, monkeypatch) -> None:
    boom = RuntimeError(f"injected into {loop}")
    if loop == "events":
        monkeypatch.setattr(worker, "_take_batch", fail_once(boom, worker._take_batch))
    elif loop == "requests":
        monkeypatch.setattr(worker.requests, "get", fail_once(boom, worker.requests.get))
    elif loop == "publisher":
        snapshots = worker.snapshots
        monkeypatch.setattr(
            snapshots, "publish_if_stale", fail_once(boom, snapshots.publish_if_stale)
        )
    elif loop == "housekeeping":
        monkeypatch.setattr(
            loop_module, "run_housekeeping", fail_once(boom, loop_module.run_housekeeping)
        )
    elif loop == "heartbeat":
        monkeypatch.setattr(
            heartbeat_rows, "record_beat", fail_once(boom, heartbeat_rows.record_beat)
        )
    elif loop == "broker":
        worker._callback_error = boom  # what a failing paho callback leaves behind


@pytest.mark.parametrize(
    "loop", ["events", "requests", "publisher", "housekeeping", "heartbeat", "broker"]
)
def test_an_exception_in_a_loop_is_logged_retried_and_the_worker_keeps_ingesting(
    library, mosquitto, kiosk, monkeypatch, caplog, loop
):
    client, inbox = kiosk
    acks = Acks(inbox)
    worker = make_worker(library, mosquitto)
    inject(worker, loop, monkeypatch)
    with caplog.at_level(logging.INFO, logger="commonshed.ingest"):
        worker.start()
        try:
            state = worker.supervisor.loops[loop]
            wait_until(lambda: state.last_error, 60, f"the {loop} loop to fail")
            assert state.last_error == f"RuntimeError: injected into {loop}"
            wait_until(
                lambda: any(
                    f"the {loop} loop works again" in r.getMessage() for r in caplog.records
                ),
                60,
                f"the {loop} loop to work again",
            )
            send_and_expect_applied(mosquitto, client, acks, seq=1)
            assert worker.supervisor.gave_up is None
            assert worker.supervisor.trouble() is None
        finally:
            worker.stop()
    logged = [r for r in caplog.records if f"the {loop} loop failed (1 in a row" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # with its traceback


def test_paho_callbacks_never_raise_into_paho(worker, monkeypatch):
    def broken(*args):
        raise ValueError("decoder bug")

    monkeypatch.setattr(loop_module, "from_kiosk", broken)

    class Message:
        topic, payload, mid, qos = "commonshed/v1/test/kiosk/kiosk-a/events", b"{}", 1, 1

    worker._on_message(worker.client, None, Message())  # no exception leaves
    wait_until(
        lambda: (worker.supervisor.loops["broker"].last_error or "").startswith("ValueError"),
        10,
        "the broker loop to count the failed callback",
    )


# --- the hub's own online status ------------------------------------------------------------


def test_the_hub_says_it_is_online_retained_and_offline_when_it_stops(library, mosquitto):
    worker = make_worker(library, mosquitto).start()
    watcher = mosquitto.connect("kiosk-b")
    statuses = collect(watcher, HUB_STATUS_TOPIC)
    try:
        first = statuses.get(timeout=10)
        assert hub_is_online(first.payload)
    finally:
        worker.stop()
    assert not hub_is_online(statuses.get(timeout=10).payload)


# --- the database goes away and comes back --------------------------------------------------


class PostgresOutage:
    """Refuse new connections to the test database and cut the ones it has, then allow again.

    NOTE: the shared PostgreSQL server itself must not be stopped: others use it.
    """

    def __init__(self, engine, keep_pids: set[int]) -> None:
        self.name = engine.url.database
        self.keep = keep_pids

    def begin(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> ALL(%s)",
                (self.name, list(self.keep)),
            )

    def end(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


class SqliteLock:
    """Another process holding the SQLite database's write lock until told to let go."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "db.execute('ROLLBACK')\n"
    )

    def __init__(self, engine) -> None:
        self.path = engine.url.database
        self.process: subprocess.Popen[str] | None = None

    def begin(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def end(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.close()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def outage_for(engine, request):
    if is_sqlite(engine):
        return SqliteLock(engine)
    database = request.getfixturevalue("postgres_database")
    return PostgresOutage(engine, keep_pids={database._admin.info.backend_pid})


def test_database_away_mid_stream_loses_and_refuses_nothing(library, mosquitto, kiosk, request):
    # NOTE: SQLite's busy timeout (30 s) would make the ingest wait rather than fail; 0.3 s
    # lets the lock show as the error it becomes after a long hold, within the test's time.
    if is_sqlite(library):
        _short_busy_timeout(library)
    client, inbox = kiosk
    acks = Acks(inbox)
    worker = make_worker(library, mosquitto).start()
    outage = outage_for(library, request)
    try:
        send_and_expect_applied(mosquitto, client, acks, seq=1)
        outage.begin()
        try:
            during = [refused_card(seq) for seq in range(2, 22)]
            for sent in during:
                send(mosquitto, client, sent)
            wait_until(
                lambda: worker.supervisor.loops["events"].failures >= 2,
                30,
                "the events loop to meet the missing database",
            )
            assert acks.take().keys() & {e.event_id for e in during} == set()  # nothing refused
        finally:
            outage.end()
        wait_until(
            lambda: {e.event_id for e in during} <= acks.take().keys(),
            60,
            "every event sent during the outage to be acked",
        )
        assert {acks.seen[e.event_id] for e in during} == {"applied"}
        send_and_expect_applied(mosquitto, client, acks, seq=22)  # fresh events still come in
        with reading(library) as session:
            assert len(session.exec(select(CardRefusal)).all()) == 22
        assert worker.supervisor.gave_up is None
    finally:
        worker.stop()


def _short_busy_timeout(engine) -> None:
    """Make ``engine``'s new connections give up on a held lock after 0.3 s."""

    def short(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=300")

    sa_event.listen(engine, "connect", short)
    engine.dispose()


# --- the watchdog ---------------------------------------------------------------------------


def test_heartbeats_reach_systemd_while_the_loops_work_and_stop_while_one_is_frozen(
    library, mosquitto, tmp_path, monkeypatch, caplog
):
    path = tmp_path / "notify"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(path))
    systemd.settimeout(10)
    worker = make_worker(
        library,
        mosquitto,
        notifier=SystemdNotifier(str(path)),
        watchdog_interval=0.05,
        stall_after=0.5,
    )
    release = threading.Event()
    publish = worker.snapshots.publish_if_stale
    frozen = threading.Event()

    def maybe_frozen() -> None:
        if frozen.is_set():
            release.wait(30)
        publish()

    monkeypatch.setattr(worker.snapshots, "publish_if_stale", maybe_frozen)
    runner = threading.Thread(target=worker.run_forever)
    try:
        with caplog.at_level(logging.ERROR, logger="commonshed.ingest"):
            runner.start()
            assert systemd.recv(100) == b"READY=1"
            assert [systemd.recv(100) for _ in range(3)] == [b"WATCHDOG=1"] * 3
            frozen.set()
            wait_until(lambda: len(silenced(caplog)) >= 1, 60, "the frozen loop to be noticed")
            _drain(systemd)  # beats sent before it was noticed
            seen = len(silenced(caplog))
            wait_until(lambda: len(silenced(caplog)) >= seen + 3, 60, "three more silent rounds")
            assert _drain(systemd) == []  # no beat while the loop is frozen
            assert "publisher" in silenced(caplog)[-1].getMessage()
        release.set()
        systemd.settimeout(10)
        assert systemd.recv(100) == b"WATCHDOG=1"  # beating again once it comes round
    finally:
        release.set()
        worker.stop_soon()
        runner.join(20)
        systemd.close()
    assert not runner.is_alive()


def silenced(caplog) -> list[logging.LogRecord]:
    """Return the log records of rounds that sent systemd no heartbeat."""
    return [r for r in caplog.records if "not telling systemd" in r.getMessage()]


def _drain(sock: socket.socket) -> list[bytes]:
    sock.setblocking(False)
    received = []
    try:
        while True:
            received.append(sock.recv(100))
    except BlockingIOError:
        return received
    finally:
        sock.setblocking(True)


def test_heartbeat_rows_say_each_loop_came_round_and_when_a_batch_committed(
    worker, mosquitto, kiosk
):
    client, inbox = kiosk
    send_and_expect_applied(mosquitto, client, Acks(inbox), seq=1)

    def rows():
        with reading(worker.engine) as session:
            return {
                r.loop: r for r in session.exec(select(WorkerHeartbeat)) if r.worker == worker.name
            }

    wait_until(lambda: rows().get("events") and rows()["events"].progress_at, 60, "the batch row")
    assert set(rows()) == {"events", "requests", "publisher", "housekeeping", "heartbeat", "broker"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_run_forever_notices_a_dead_loop_and_gives_up(library, mosquitto, monkeypatch):
    worker = make_worker(library, mosquitto, watchdog_interval=0.05)

    def fatal() -> None:
        raise SystemExit("a thread that ends")

    monkeypatch.setattr(worker, "_broker_step", fatal)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            worker.run_forever()
        except IngestGaveUp as gave_up:
            outcome.append(gave_up)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(30)
    assert not runner.is_alive()
    assert [str(e) for e in outcome] == ["the broker loop ended"]
