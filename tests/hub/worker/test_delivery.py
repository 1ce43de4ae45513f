"""Delivery (issue 3): 1,000 events end as exactly 1,000 effects whatever breaks on the way.

A kiosk stand-in (``AckWaitingPublisher``) keeps every event until the hub's own ack for it
arrives, re-publishing on a timeout and after reconnects, as the kiosk's outbox will. The hub
is the real ingest worker, run as its own process (``commonshed hub ... ingest``), against a
real Mosquitto from broker/'s config and both databases. Each ``card_refused`` event applied
makes one ``CardRefusal`` row, so effects can be counted.

- a hub worker SIGKILLed mid-stream and started again;
- Mosquitto SIGKILLed mid-stream (no last snapshot) and started again;
- every event published twice, some three times, with the same event id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from broker import messages as wire
from broker.local import LocalBroker
from hub.infra.db import reading, transaction
from hub.inventory.fleet import CardRefusal
from hub.worker.inbox import DeadLetter, InboxEvent
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_kiosk
from tests.hub.worker.ack_waiting_publisher import AckWaitingPublisher, publisher_for

pytestmark = pytest.mark.slow

EVENTS = 1000
CASE_TIMEOUT = 90.0  # seconds for the whole stream of one case to be acknowledged
REPO = Path(__file__).resolve().parents[3]
KIOSK = "kiosk-a"


# --- the hub worker as a process of its own -----------------------------------------------


class HubWorkerProcess:
    """``commonshed hub ... ingest`` in a child process, its log kept in a file."""

    def __init__(self, database_url: str, broker: LocalBroker, work_dir: Path, worker: int = 1):
        self.log_path = work_dir / f"hub-worker-{worker}.log"
        self.command = [
            sys.executable,
            "-m",
            "commonshed",
            "hub",
            "--data-dir",
            str(work_dir / "hub-data"),
            "--database-url",
            database_url,
            "ingest",
            "--mqtt-host",
            broker.host,
            "--mqtt-port",
            str(broker.port),
            "--broker-data-dir",
            str(broker.data_dir),
            "--worker",
            str(worker),
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> HubWorkerProcess:
        if self.running:
            raise RuntimeError("the hub worker is already running")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no batch finished, no PUBACK sent, no DISCONNECT."""
        if self.process is not None:
            if self.running:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the worker finishes its batch and disconnects); SIGKILL if it lingers."""
        if self.process is None:
            return None
        if self.running:
            self.process.terminate()
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def registered(engine):
    """kiosk-a registered at the broker fixture's site, so its events are applied."""
    with transaction(engine) as session:
        a_kiosk(session, KIOSK, slots=2, site="test")
    return engine


@pytest.fixture
def hub_worker(registered, database_url, mosquitto, tmp_path) -> Iterator[HubWorkerProcess]:
    """The hub worker process (not started yet), ended after the test even if it failed."""
    worker = HubWorkerProcess(database_url, mosquitto, tmp_path)
    try:
        yield worker
    finally:
        worker.terminate()


def refusals(count: int = EVENTS, kiosk_id: str = KIOSK) -> list[wire.CardRefusedEvent]:
    """Return ``count`` card_refused events of one kiosk, seq 0.., each with its own card."""
    at = datetime(2025, 5, 17, 9, 30, tzinfo=UTC)
    return [
        wire.CardRefusedEvent(
            event_id=wire.new_message_id(),
            kiosk_id=kiosk_id,
            seq=seq,
            kiosk_time=at,
            body=wire.CardRefused(card_uid=f"{0xC0000000 + seq:08X}", reason="unknown_card"),
        )
        for seq in range(count)
    ]


# --- helpers --------------------------------------------------------------------------------


def count(engine, table, *where) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def wait_for_hub_subscribed(broker: LocalBroker, worker: HubWorkerProcess, timeout=30.0):
    """Wait until the worker's retained config for kiosk-a is at the broker.

    The worker subscribes right after its CONNACK and publishes configs a moment later, so
    once the config is there, events published now reach it (and not an empty shared group).
    """
    seen = []
    probe = broker.connect("hub", on_message=lambda _c, _u, message: seen.append(message))

    def subscribed() -> bool:
        if not worker.running:
            raise AssertionError(f"the hub worker exited:\n{worker.log_tail()}")
        return bool(seen)

    try:
        probe.subscribe(broker.topic(KIOSK, "config"), qos=1)
        wait_until(subscribed, timeout, f"the hub worker to come up (log: {worker.log_path})")
    finally:
        probe.disconnect()
        probe.loop_stop()


def finish(publisher: AckWaitingPublisher, worker: HubWorkerProcess, broker: LocalBroker):
    """Wait until every event is acknowledged, with a useful message if they are not."""
    if not publisher.wait_until_all_acked(CASE_TIMEOUT):
        raise AssertionError(
            f"{publisher.unacked} of {EVENTS} events unacknowledged after {CASE_TIMEOUT} s "
            f"(published {publisher.publishes}, acks {publisher.status_counts()}, "
            f"connects {publisher.connects})\n--- hub worker:\n{worker.log_tail()}\n"
            f"--- mosquitto:\n{broker.log_text()[-3000:]}"
        )


def assert_exactly_once(engine, publisher: AckWaitingPublisher) -> None:
    """1,000 effects, 1,000 inbox rows all applied, no dead letters, nothing left to send."""
    print(publisher.summary())
    assert publisher.unacked == 0
    assert count(engine, CardRefusal) == EVENTS
    assert count(engine, InboxEvent) == EVENTS
    assert count(engine, InboxEvent, InboxEvent.outcome == "applied") == EVENTS
    assert count(engine, DeadLetter) == 0
    with reading(engine) as session:
        cards = set(session.exec(select(CardRefusal.card_uid)).all())
    assert cards == {f"{0xC0000000 + seq:08X}" for seq in range(EVENTS)}
    statuses = publisher.status_counts()
    assert statuses["rejected"] == 0, statuses
    assert publisher.foreign_acks == 0 and publisher.undecodable_acks == 0


# --- the cases ------------------------------------------------------------------------------


def test_hub_worker_killed_mid_stream_and_restarted(hub_worker, mosquitto, registered):
    events = refusals()
    hub_worker.start()
    wait_for_hub_subscribed(mosquitto, hub_worker)
    with publisher_for(mosquitto, events) as publisher:
        wait_until(lambda: count(registered, CardRefusal) >= 300, 60, "300 effects before the kill")
        hub_worker.kill()
        at_kill = count(registered, CardRefusal)
        print(f"hub worker killed at {at_kill} effects, {publisher.acked} acked")
        assert at_kill < EVENTS, "the stream ended before the kill: nothing was tested"
        retries_at_kill = publisher.retries
        # The publisher resends what went unacked (retry_after 1.5 s): once it has, a live
        # worker would have committed something; a dead one has not.
        wait_until(lambda: publisher.retries > retries_at_kill, 30, "a resend after the kill")
        assert count(registered, CardRefusal) == at_kill  # really dead: nothing committed
        assert publisher.unacked > 0
        hub_worker.start()
        finish(publisher, hub_worker, mosquitto)
        assert_exactly_once(registered, publisher)
        assert hub_worker.starts == 2
        # One commit per event, so at most one "applied" ack each; what the dead worker
        # committed without acking came back as "duplicate".
        assert set(publisher.applied_per_event()) <= {0, 1}


def test_broker_killed_mid_stream_and_restarted(hub_worker, mosquitto, registered):
    events = refusals()
    hub_worker.start()
    wait_for_hub_subscribed(mosquitto, hub_worker)
    with publisher_for(mosquitto, events) as publisher:
        wait_until(lambda: count(registered, CardRefusal) >= 300, 60, "300 effects before the kill")
        mosquitto.kill()  # SIGKILL: whatever came since the last snapshot is gone
        at_kill = count(registered, CardRefusal)
        print(f"broker killed at {at_kill} effects, {publisher.acked} acked")
        assert at_kill < EVENTS, "the stream ended before the kill: nothing was tested"
        wait_until(lambda: publisher.unacked > 0, 10, "events the dead broker leaves unacked")
        mosquitto.start()
        finish(publisher, hub_worker, mosquitto)
        assert_exactly_once(registered, publisher)
        assert publisher.connects >= 2 and publisher.retries > 0
        assert hub_worker.running, hub_worker.log_tail()  # it rode out the broker's death


def test_events_duplicated_on_purpose_apply_once(hub_worker, mosquitto, registered):
    events = refusals()

    def copies(index: int) -> int:
        return 3 if index % 5 == 0 else 2  # 1,200 copies beyond the originals

    hub_worker.start()
    wait_for_hub_subscribed(mosquitto, hub_worker)
    with publisher_for(mosquitto, events, copies=copies) as publisher:
        finish(publisher, hub_worker, mosquitto)
        # Every PUBLISH the hub got is answered: the copies as "duplicate".
        assert publisher.wait_until_acks_received(publisher.publishes, 20), (
            publisher.acks_received,
            publisher.publishes,
        )
        assert_exactly_once(registered, publisher)
        statuses = publisher.status_counts()
        assert publisher.publishes >= EVENTS + EVENTS + EVENTS // 5
        assert statuses["applied"] == EVENTS
        assert statuses["duplicate"] == publisher.publishes - EVENTS
        assert publisher.applied_per_event() == {1: EVENTS}  # no event applied twice
