"""Sustained ingest of a realistic event mix: committed by the hub and acknowledged, per second.

    .venv/bin/python bench/hub_ingest_bench.py [--events 10000] [--backends sqlite,postgresql]
        [--workers 1] [--acks batched|single] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--in-process] [--profile]

One kiosk-a client publishes ``--events`` events (QoS 1) through the project's Mosquitto, a
realistic mix: per tap, ``door_opened``, a ``loan_out`` (the tool is in) or a ``tool_return``
(it is out), ``door_closed``; before every 10th tap a ``card_refused`` and after every 25th a
``repair_logged`` (some 3.1 events a tap, over 50 tools and 200 members). The hub's ingest
worker applies them and acknowledges each (batched acks: the kiosk's retained status asks for
them; ``--acks single`` measures a v1.0 kiosk); the rate is counted at the publisher, from its
first publish to the last ack. Beside it, in the same run, on the same broker, with the same
payloads, two bare baselines:

- bare subscriber: a paho client on the hub's shared subscription that only counts (one way);
- bare echo: a paho client on the same subscription that publishes every payload straight back
  to the kiosk's ``acks`` topic (QoS 1), counted at the publisher like the hub.

The worker runs as its own process (``commonshed hub ... ingest``), as deployed; ``--workers N``
starts N of them on the shared subscription. With ``--in-process`` it runs in this process, and
the script also reports where its time goes: decoding at the door (paho's thread), inside the
transaction, and publishing acks + PUBACKs; ``--profile`` adds a cProfile of the worker's
events thread. PostgreSQL runs on a scratch database created and dropped here. Goal: the hub
at least 0.5x the bare subscriber with one worker on SQLite.
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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from broker import messages as wire  # noqa: E402
from broker.client import subscribe_and_wait  # noqa: E402
from broker.inbound import from_kiosk  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import HUB_EVENTS_SHARED, Channel  # noqa: E402
from hub.infra import migrate
from hub.infra.db import make_engine, reading, transaction
from hub.inventory.registry import add_locker, add_tool, register_kiosk
from hub.loans.lending import Loan
from hub.members.roster import add_member, assign_card
from hub.worker.inbox import InboxEvent
from hub.worker.loop import IngestWorker

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
KIOSK = "kiosk-a"
HUB_CLIENT_ID = "hub-ingest-1"
TOOLS, MEMBERS = 50, 200
REFUSAL_EVERY, REPAIR_EVERY = 10, 25
SORT = os.environ.get("BENCH_PROFILE_SORT", "cumulative")  # or "tottime"


def member_card(number: int) -> str:
    return f"{0xA0000000 + number:08X}"


def tool_code(number: int) -> str:
    return f"TOOL-{number:03d}"


class Mix:
    """A kiosk's realistic event stream: taps that lend or take back a tool, with the door
    opening and closing around each, some refusals and some repair logs."""

    def __init__(self) -> None:
        self.seq = 0
        self.at = datetime.now(UTC)
        self.borrower: dict[int, int] = {}  # tool -> member who has it
        self.loans = 0

    def events(self, count: int) -> list[bytes]:
        """Return the next ``count`` events, encoded."""
        out: list[bytes] = []
        tap = 0
        while len(out) < count:
            out += self._tap(tap)
            tap += 1
        return out[:count]

    def _tap(self, tap: int) -> list[bytes]:
        tool, member = tap % TOOLS, (tap * 7) % MEMBERS
        slot, code = tool + 1, tool_code(tool)
        events: list[bytes] = []
        if tap % REFUSAL_EVERY == 0:
            refused = wire.CardRefused(card_uid=f"{0xC0000000 + tap:08X}", reason="unknown_card")
            events.append(self._event(wire.CardRefusedEvent, refused))
        events.append(self._event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=slot)))
        if tool in self.borrower:
            card = member_card(self.borrower.pop(tool))
            body = wire.ToolReturn(card_uid=card, tool_code=code, locker_slot=slot, condition="ok")
            events.append(self._event(wire.ToolReturnEvent, body))
        else:
            self.borrower[tool] = member
            self.loans += 1
            body = wire.LoanOut(card_uid=member_card(member), tool_code=code, locker_slot=slot)
            events.append(self._event(wire.LoanOutEvent, body))
        events.append(self._event(wire.DoorClosedEvent, wire.DoorChange(locker_slot=slot)))
        if tap % REPAIR_EVERY == 0:
            repair = wire.RepairLogged(
                card_uid=member_card(member), tool_code=code, hours=Decimal("0.5"), note="oiled"
            )
            events.append(self._event(wire.RepairLoggedEvent, repair))
        return events

    def _event(self, kind: type, body: object) -> bytes:
        self.seq += 1
        self.at += timedelta(milliseconds=50)
        return wire.encode(
            kind(
                event_id=wire.new_message_id(),
                kiosk_id=KIOSK,
                seq=self.seq,
                kiosk_time=self.at,
                body=body,
            )
        )


# --- the bare baselines --------------------------------------------------------------------


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
    """Return the messages/s a bare subscriber on the hub's shared filter receives."""
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


def measure_echo(broker: LocalBroker, payloads: list[bytes], timeout: float = 120.0) -> float:
    """Return the messages/s a bare echo (every payload straight back to the kiosk's acks
    topic, QoS 1, on paho's thread) returns, counted at the publisher as the hub is."""
    acks_topic = broker.topic(KIOSK, Channel.ACKS)
    counter = Counter(len(payloads))

    def echo(client: mqtt.Client, _userdata, message: mqtt.MQTTMessage) -> None:
        client.publish(acks_topic, message.payload, qos=1)

    hub = broker.connect("hub", client_id="echo-responder", on_message=echo)
    kiosk = broker.connect(KIOSK, on_message=counter.on_message)
    try:
        subscribe_and_wait(hub, HUB_EVENTS_SHARED)
        subscribe_and_wait(kiosk, acks_topic)
        topic = broker.topic(KIOSK, Channel.EVENTS)
        started = time.perf_counter()
        for payload in payloads:
            kiosk.publish(topic, payload, qos=1)
        if not counter.done.wait(timeout):
            raise TimeoutError(f"echo: only {counter.received} of {len(payloads)} in {timeout} s")
        return len(payloads) / (time.perf_counter() - started)
    finally:
        for client in (hub, kiosk):
            client.disconnect()
            client.loop_stop()


# --- the hub --------------------------------------------------------------------------------


class AckCounter:
    """The kiosk side: count the hub's acks by event id, and the messages that carried them."""

    def __init__(self) -> None:
        self.acked: dict[str, str] = {}
        self.messages = 0
        self.changed = threading.Condition()

    def on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        acks = wire.acks_in(message.payload)
        with self.changed:
            self.messages += 1
            for ack in acks:
                self.acked.setdefault(ack.event_id, ack.status)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.acked) >= count, timeout)


@dataclass
class BatchLog:
    """What an in-process worker did: each batch's size and where its time went."""

    sizes: list[int] = field(default_factory=list)
    in_transaction_s: list[float] = field(default_factory=list)
    handled_s: list[float] = field(default_factory=list)  # transaction + acks + PUBACKs
    decode_s: float = 0.0  # at the door, on paho's network thread
    decoded: int = 0
    statements: int = 0  # SQL statements the worker executed (load-independent)


class TimedWorker(IngestWorker):
    """The real worker, timed from outside: nothing of its behaviour is changed."""

    def __init__(self, *args, profile: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = BatchLog()
        self.profiler = cProfile.Profile() if profile else None
        event.listen(self.engine, "before_cursor_execute", self._count_statement)

    def _count_statement(self, *_args) -> None:
        self.log.statements += 1

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

    def _on_message(self, client, userdata, message) -> None:
        # What the door costs: the same decode the worker does, timed on a copy.
        started = time.perf_counter()
        from_kiosk(message.topic, bytes(message.payload))
        self.log.decode_s += time.perf_counter() - started
        self.log.decoded += 1
        super()._on_message(client, userdata, message)

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
    ack_messages: int
    log: BatchLog | None
    profile: str | None


def measure_hub(
    broker: LocalBroker,
    url: str,
    mix: Mix,
    payloads: list[bytes],
    work_dir: Path,
    *,
    batched_acks: bool,
    in_process: bool,
    profile: bool,
    workers: int = 1,
    timeout: float = 300.0,
) -> HubRun:
    """Return the events/s the hub commits and acknowledges, counted at the publisher."""
    acks = AckCounter()
    kiosk = broker.connect(KIOSK, on_message=acks.on_message)
    # The kiosk's retained status, as a v1.1 (or v1.0) kiosk sends it: the worker reads it on
    # subscribing, before any event.
    status = wire.Availability(
        state="online",
        since=datetime.now(UTC),
        outbox_backlog=len(payloads),
        features=[wire.BATCHED_ACKS] if batched_acks else None,
    )
    kiosk.publish(
        broker.topic(KIOSK, Channel.STATUS), wire.encode(status), qos=1, retain=True
    ).wait_for_publish(5)
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
        probe = wire.encode(
            wire.DoorClosedEvent(
                event_id=wire.new_message_id(),
                kiosk_id=KIOSK,
                seq=0,
                kiosk_time=datetime.now(UTC),
                body=wire.DoorChange(locker_slot=1),
            )
        )
        deadline = time.monotonic() + 30
        while not acks.wait_for(1, 1.0):
            if time.monotonic() > deadline:
                raise TimeoutError("the hub worker did not answer a probe within 30 s")
            kiosk.publish(topic, probe, qos=1)
        if in_process:
            worker.log = BatchLog()
        messages_before = acks.messages
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
        kiosk.publish(broker.topic(KIOSK, Channel.STATUS), b"", qos=1, retain=True)
        kiosk.disconnect()
        kiosk.loop_stop()
        # NOTE: Mosquitto keeps handing an offline persistent session its share of a shared
        # subscription: end the worker's session so the next bare run gets every message.
        for number in range(1, workers + 1):
            ended = broker.connect("hub", client_id=f"hub-ingest-{number}", clean_start=True)
            ended.disconnect()
            ended.loop_stop()
    _check(engine, mix, len(payloads) + 1, acks)
    report = None
    if in_process and worker.profiler is not None:
        text = io.StringIO()
        pstats.Stats(worker.profiler, stream=text).sort_stats(SORT).print_stats(35)
        report = text.getvalue()
    return HubRun(
        len(payloads) / elapsed,
        elapsed,
        acks.messages - messages_before,
        worker.log if in_process else None,
        report,
    )


def _check(engine, mix: Mix, events: int, acks: AckCounter) -> None:
    """Insist every event was recorded once and applied, and every loan is there."""
    try:
        with reading(engine) as session:
            inbox = session.exec(select(func.count()).select_from(InboxEvent)).one()
            loans = session.exec(select(func.count()).select_from(Loan)).one()
    finally:
        engine.dispose()
    if inbox != events or loans != mix.loans:
        raise AssertionError(
            f"expected {events} inbox rows and {mix.loans} loans, found {inbox} and {loans}"
        )
    if set(acks.acked.values()) != {"applied"}:
        raise AssertionError(f"unexpected acks: {set(acks.acked.values())}")


# --- databases ------------------------------------------------------------------------------


def prepared_database(backend: str, tmp: Path, pg_url: str) -> tuple[str, str | None]:
    """Return (URL, scratch PG database name or None) of a migrated DB with kiosk-a, its 50
    tools in their lockers, and 200 members with a card each."""
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
            for tool in range(TOOLS):
                add_locker(session, KIOSK, tool + 1)
                add_tool(
                    session,
                    code=tool_code(tool),
                    name=f"Tool {tool}",
                    category="bench",
                    kiosk_id=KIOSK,
                    slot=tool + 1,
                )
            for number in range(MEMBERS):
                member = add_member(session, name=f"Member {number}")
                assign_card(session, member.id, member_card(number))
    finally:
        engine.dispose()
    return url, name


def drop_pg(pg_url: str, name: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(log: BatchLog, elapsed: float) -> str:
    sizes = sorted(log.sizes)
    events = sum(sizes)
    busy, in_tx = sum(log.handled_s), sum(log.in_transaction_s)
    decode_us = log.decode_s / max(1, log.decoded) * 1e6
    return (
        f"  {len(sizes)} batches, size median {sizes[len(sizes) // 2]}, max {sizes[-1]}, "
        f"mean {events / len(sizes):.1f}; {log.statements / events:.2f} SQL statements per event\n"
        f"  per event: decode at the door {decode_us:.0f} us (paho's thread), in transaction "
        f"{in_tx / events * 1e6:.0f} us, acks + PUBACKs {(busy - in_tx) / events * 1e6:.0f} us\n"
        f"  events thread: busy {busy:.2f} s, waiting for messages "
        f"{max(0.0, elapsed - busy):.2f} s of {elapsed:.2f} s"
    )


@dataclass
class Row:
    backend: str
    raw: float
    echo: float
    hub: HubRun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--acks", choices=["batched", "single"], default="batched")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the worker in this process and report where its time goes",
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
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "data") as broker:
        for backend in args.backends.split(","):
            work = Path(tmp) / backend
            work.mkdir()
            url, scratch = prepared_database(backend, work, args.pg_url)
            mix = Mix()
            payloads = mix.events(args.events)
            try:
                raw = measure_raw(broker, payloads)
                echo = measure_echo(broker, payloads)
                hub = measure_hub(
                    broker,
                    url,
                    mix,
                    payloads,
                    work,
                    batched_acks=args.acks == "batched",
                    in_process=in_process,
                    profile=args.profile,
                    workers=args.workers,
                )
            finally:
                if scratch:
                    drop_pg(args.pg_url, scratch)
            rows.append(Row(backend, raw, echo, hub))
            if hub.log:
                print(f"{backend}:\n{describe(hub.log, hub.elapsed_s)}")
            if hub.profile:
                print(hub.profile)
    where = "in this process" if in_process else f"in {args.workers} process(es) of its own"
    print(
        f"\nIngest of {args.events:,} events of a realistic mix from one kiosk, QoS 1, "
        f"{args.acks} acks, hub worker {where}"
    )
    print(
        f"{'backend':<11} {'hub ev/s':>9} {'bare sub/s':>11} {'hub/sub':>8} {'echo/s':>8} "
        f"{'hub/echo':>9} {'ack msgs':>9}   (hub: committed and acked, at the publisher; "
        "bare sub: received by a bare subscriber; echo: bare echo, at the publisher)"
    )
    for row in rows:
        print(
            f"{row.backend:<11} {row.hub.rate:>9,.0f} {row.raw:>11,.0f} "
            f"{row.hub.rate / row.raw:>7.2f}x {row.echo:>8,.0f} {row.hub.rate / row.echo:>8.2f}x "
            f"{row.hub.ack_messages:>9,}"
        )


if __name__ == "__main__":
    main()
