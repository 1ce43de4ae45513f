"""Sustained ingest: kiosk events committed by the hub and acknowledged back, per second.

    .venv/bin/python bench/hub_ingest_bench.py [--events 10000] [--backends sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--in-process] [--profile]

One kiosk-a client floods ``--events`` card_refused events (QoS 1) through the project's
Mosquitto; the hub's ingest worker applies them (one CardRefusal and one inbox row each) and
acknowledges each one; the rate is counted at the publisher, from its first publish to the
last ack. Beside it, in the same run and on the same broker, the raw ceiling: a raw paho
subscriber on the same shared subscription counting the same payloads (no database, no ack).

The worker runs as its own process (``commonshed hub ... ingest``), as deployed. With
``--in-process`` it runs in this process instead, and the script also reports its batches:
how many, how large, and the time spent inside the transaction versus waiting for messages;
``--profile`` adds a cProfile of the worker's events thread. PostgreSQL runs on a scratch
database created and dropped here (like bench/import_members.py). Goal: at least half the
raw rate on SQLite.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from broker import messages as wire  # noqa: E402
from broker.client import subscribe_and_wait  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import HUB_EVENTS_SHARED, Channel  # noqa: E402
from hub.infra import migrate
from hub.infra.db import make_engine, reading, transaction
from hub.inventory.fleet import CardRefusal
from hub.inventory.registry import register_kiosk
from hub.worker.inbox import InboxEvent
from hub.worker.loop import IngestWorker

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
KIOSK = "kiosk-a"
HUB_CLIENT_ID = "hub-ingest-1"


def card_refusals(count: int, first_seq: int = 0) -> list[bytes]:
    """Return ``count`` encoded card_refused events of kiosk-a (fresh ids)."""
    at = datetime.now(UTC)
    return [
        wire.encode(
            wire.CardRefusedEvent(
                event_id=wire.new_message_id(),
                kiosk_id=KIOSK,
                seq=seq,
                kiosk_time=at,
                body=wire.CardRefused(card_uid=f"{0xC0000000 + seq:08X}", reason="unknown_card"),
            )
        )
        for seq in range(first_seq, first_seq + count)
    ]


# --- the raw ceiling ------------------------------------------------------------------------


class Counter:
    """Count messages on paho's thread; signal when ``expected`` have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected, self.received = expected, 0
        self.done = threading.Event()

    def on_message(self, _client, _userdata, _message) -> None:
        self.received += 1
        if self.received == self.expected:
            self.done.set()


def measure_raw(broker: LocalBroker, payloads: list[bytes], timeout: float = 120.0) -> float:
    """Return the messages/s a raw subscriber on the hub's shared filter receives."""
    counter = Counter(len(payloads))
    hub = broker.connect("hub", client_id="raw-subscriber", on_message=counter.on_message)
    kiosk = broker.connect(KIOSK)
    try:
        subscribe_and_wait(hub, HUB_EVENTS_SHARED)
        topic = broker.topic(KIOSK, Channel.EVENTS)
        started = time.perf_counter()
        for payload in payloads:
            kiosk.publish(topic, payload, qos=1)
        if not counter.done.wait(timeout):
            raise TimeoutError(f"raw: only {counter.received} of {len(payloads)} in {timeout} s")
        return len(payloads) / (time.perf_counter() - started)
    finally:
        for client in (hub, kiosk):
            client.disconnect()
            client.loop_stop()


# --- the hub --------------------------------------------------------------------------------


class AckCounter:
    """The kiosk side: count the hub's acks by event id."""

    def __init__(self) -> None:
        self.acked: dict[str, str] = {}
        self.changed = threading.Condition()

    def on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        ack = wire.decode_ack(message.payload)
        with self.changed:
            self.acked.setdefault(ack.event_id, ack.status)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.acked) >= count, timeout)


@dataclass
class BatchLog:
    """What an in-process worker did: each batch's size and time in its transaction."""

    sizes: list[int] = field(default_factory=list)
    in_transaction_s: list[float] = field(default_factory=list)
    handled_s: list[float] = field(default_factory=list)  # transaction + acks + PUBACKs


class TimedWorker(IngestWorker):
    """The real worker, timed from outside: nothing of its behaviour is changed."""

    def __init__(self, *args, profile: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = BatchLog()
        self.profiler = cProfile.Profile() if profile else None

    def process_batch(self, batch):
        started = time.perf_counter()
        try:
            return super().process_batch(batch)
        finally:
            self.log.in_transaction_s.append(time.perf_counter() - started)
            self.log.sizes.append(len(batch))

    def _process_and_acknowledge(self, batch) -> None:
        started = time.perf_counter()
        super()._process_and_acknowledge(batch)
        self.log.handled_s.append(time.perf_counter() - started)

    def _events_step(self) -> None:
        if self.profiler is None:
            return super()._events_step()
        self.profiler.enable()  # cProfile follows the thread that enables it
        try:
            return super()._events_step()
        finally:
            self.profiler.disable()


class WorkerProcess:
    """``commonshed hub ... ingest`` as its own process."""

    def __init__(self, url: str, broker: LocalBroker, work_dir: Path, number: int = 1) -> None:
        self.log_path = work_dir / f"hub-worker-{number}.log"
        command = [
            sys.executable,
            "-m",
            "commonshed",
            "hub",
            "--data-dir",
            str(work_dir / "hub-data"),
            "--database-url",
            url,
            "ingest",
            "--mqtt-host",
            broker.host,
            "--mqtt-port",
            str(broker.port),
            "--broker-data-dir",
            str(broker.data_dir),
            "--worker",
            str(number),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


@dataclass
class WorkerGroup:
    """Several worker processes sharing the events through the shared subscription."""

    processes: list[WorkerProcess]

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@dataclass
class HubRun:
    rate: float
    elapsed_s: float
    log: BatchLog | None
    profile: str | None


def measure_hub(
    broker: LocalBroker,
    url: str,
    payloads: list[bytes],
    work_dir: Path,
    *,
    in_process: bool,
    profile: bool,
    workers: int = 1,
    timeout: float = 300.0,
) -> HubRun:
    """Return the events/s the hub commits and acknowledges, counted at the publisher."""
    acks = AckCounter()
    kiosk = broker.connect(KIOSK, on_message=acks.on_message)
    engine = make_engine(url)
    worker: TimedWorker | WorkerGroup
    if in_process:
        hub = broker.credentials["hub"]
        worker = TimedWorker(
            engine,
            host=broker.host,
            port=broker.port,
            username=hub.username,
            password=hub.password,
            client_id=HUB_CLIENT_ID,
            profile=profile,
        )
        worker.start()
    else:
        worker = WorkerGroup(
            [WorkerProcess(url, broker, work_dir, n) for n in range(1, workers + 1)]
        )
    try:
        subscribe_and_wait(kiosk, broker.topic(KIOSK, Channel.ACKS))
        topic = broker.topic(KIOSK, Channel.EVENTS)
        # Warm up: one event, re-sent until acked, proves the worker is subscribed and ready.
        probe = card_refusals(1, first_seq=len(payloads))[0]
        deadline = time.monotonic() + 30
        while not acks.wait_for(1, 1.0):
            if time.monotonic() > deadline:
                raise TimeoutError("the hub worker did not answer a probe within 30 s")
            kiosk.publish(topic, probe, qos=1)
        if in_process:
            worker.log = BatchLog()
        started = time.perf_counter()
        for payload in payloads:
            kiosk.publish(topic, payload, qos=1)
        if not acks.wait_for(len(payloads) + 1, timeout):
            raise TimeoutError(
                f"hub: {len(acks.acked) - 1} of {len(payloads)} acked in {timeout} s"
            )
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
        kiosk.disconnect()
        kiosk.loop_stop()
        # NOTE: Mosquitto keeps handing an offline persistent session its share of a shared
        # subscription: end the worker's session so the next raw run gets every message.
        for number in range(1, workers + 1):
            ended = broker.connect("hub", client_id=f"hub-ingest-{number}", clean_start=True)
            ended.disconnect()
            ended.loop_stop()
    try:
        with reading(engine) as session:
            effects = session.exec(select(func.count()).select_from(CardRefusal)).one()
            inbox = session.exec(select(func.count()).select_from(InboxEvent)).one()
    finally:
        engine.dispose()
    if effects != len(payloads) + 1 or inbox != len(payloads) + 1:
        raise AssertionError(
            f"expected {len(payloads) + 1} effects and inbox rows, found {effects} and {inbox}"
        )
    if set(acks.acked.values()) != {"applied"}:
        raise AssertionError(f"unexpected acks: {set(acks.acked.values())}")
    report = None
    if in_process and worker.profiler is not None:
        text = io.StringIO()
        pstats.Stats(worker.profiler, stream=text).sort_stats("cumulative").print_stats(35)
        report = text.getvalue()
    return HubRun(len(payloads) / elapsed, elapsed, worker.log if in_process else None, report)


# --- databases ------------------------------------------------------------------------------


def prepared_database(backend: str, tmp: Path, pg_url: str) -> tuple[str, str | None]:
    """Return (URL, scratch PG database name or None) of a migrated DB with kiosk-a."""
    name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'hub.db'}"
    else:
        name = f"commonshed_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
        url = url.render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with transaction(engine) as session:
            register_kiosk(session, KIOSK, site="test", name="Bench kiosk")
    finally:
        engine.dispose()
    return url, name


def drop_pg(pg_url: str, name: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(log: BatchLog, elapsed: float) -> str:
    sizes = sorted(log.sizes)
    busy = sum(log.handled_s)
    return (
        f"  {len(sizes)} batches, size median {sizes[len(sizes) // 2]}, max {sizes[-1]}, "
        f"mean {sum(sizes) / len(sizes):.1f}; in transaction {sum(log.in_transaction_s):.2f} s "
        f"({sum(log.in_transaction_s) / sum(sizes) * 1e6:.0f} us/event), transaction + acks "
        f"{busy:.2f} s, waiting for messages {max(0.0, elapsed - busy):.2f} s of {elapsed:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the worker in this process and report its batches",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the worker's events thread (implies --in-process)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="ingest worker processes sharing the load"
    )
    args = parser.parse_args()
    in_process = args.in_process or args.profile
    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "data") as broker:
        for backend in args.backends.split(","):
            work = Path(tmp) / backend
            work.mkdir()
            url, scratch = prepared_database(backend, work, args.pg_url)
            try:
                raw = measure_raw(broker, card_refusals(args.events))
                hub = measure_hub(
                    broker,
                    url,
                    card_refusals(args.events),
                    work,
                    in_process=in_process,
                    profile=args.profile,
                    workers=args.workers,
                )
            finally:
                if scratch:
                    drop_pg(args.pg_url, scratch)
            rows.append((backend, raw, hub))
            if hub.log:
                print(f"{backend}:\n{describe(hub.log, hub.elapsed_s)}")
            if hub.profile:
                print(hub.profile)
    where = "in this process" if in_process else f"{args.workers} process(es) of its own"
    print(
        f"\nIngest of {args.events:,} card_refused events from one kiosk, QoS 1, "
        f"hub worker in {where}"
    )
    print(
        f"{'backend':<11} {'hub ev/s':>9} {'raw msg/s':>10} {'hub/raw':>8}   (hub: committed "
        "and acked, at the publisher; raw: received by a bare subscriber)"
    )
    for backend, raw, hub in rows:
        print(f"{backend:<11} {hub.rate:>9,.0f} {raw:>10,.0f} {hub.rate / raw:>7.2f}x")


if __name__ == "__main__":
    main()
