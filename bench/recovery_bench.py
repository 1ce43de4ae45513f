"""Recovery times of the hub ingest after the faults of issue 12, through real parts.

    .venv/bin/python bench/recovery_bench.py [--rounds 3] [--pg-url postgresql://...]

- broker restart, kiosks back before the hub: seconds from the broker's start until a kiosk's
  outbox (10 events written while it was down) is empty, and from the hub's return;
- ingest killed (SIGKILL) or frozen (SIGSTOP): seconds until the web, reading the heartbeat rows
  (``hub.queries.ingest``, what ``/healthz/ingest`` and the kiosk pages show), says it is stuck;
- database away: PostgreSQL refusing and cutting connections (``ALLOW_CONNECTIONS false`` plus
  ``pg_terminate_backend``), SQLite held by another process's write lock; 20 events sent
  meanwhile; seconds from the database's return until every one of them is acked ``applied``.

The ingest runs in this process with its production backoff (0.5 s doubling to 5 s), so the
recovery time depends on how long the database was away: the next retry comes at most one
backoff step after its return. Say how loaded the machine was when you quote the figures.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402

from bench.scratch_db import PG_ADMIN_URL, scratch_database  # noqa: E402
from broker import messages as wire  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import Channel  # noqa: E402
from hub.infra import migrate  # noqa: E402
from hub.infra.db import make_engine, reading, transaction  # noqa: E402
from hub.inventory.registry import register_kiosk  # noqa: E402
from hub.queries.ingest import ingest_health  # noqa: E402
from hub.worker.loop import IngestWorker  # noqa: E402
from kiosk.config import MqttSettings  # noqa: E402
from kiosk.link import Link  # noqa: E402
from kiosk.outbox import Outbox  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BODY = wire.CardRefused(card_uid="CAFEBABE", reason="unknown_card")


def wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.01)


def hub(engine, broker: LocalBroker) -> IngestWorker:
    login = broker.credentials["hub"]
    return IngestWorker(
        engine, host=broker.host, port=broker.port, username=login.username, password=login.password
    ).start()


def broker_restart(work: Path, rounds: int) -> list[tuple[float, float]]:
    """Return (from the broker's start, from the hub's return) per round."""
    engine = _sqlite_hub(work / "restart.db")
    broker = LocalBroker(work / "broker", kiosks=("kiosk-a",), site="test")
    broker.start()
    login = broker.credentials["kiosk-a"]
    settings = MqttSettings(broker.host, broker.port, login.username, login.password)
    outbox = Outbox(work / "outbox.db", "kiosk-a")
    link = Link(
        kiosk_id="kiosk-a",
        site="test",
        mqtt_settings=settings,
        outbox_path=work / "outbox.db",
        on_snapshot=lambda *args: None,
        versions=lambda: (None, None),
    ).start()
    worker, times = hub(engine, broker), []
    try:
        for _ in range(rounds):
            worker.stop()  # the hub comes back after the kiosk, as after a broker restart
            broker.stop()
            for _ in range(10):
                outbox.record(wire.CardRefusedEvent, BODY)
            link.wake()
            connects = link.figures.connects
            broker.start()
            started = time.monotonic()
            wait(lambda n=connects: link.figures.connects > n, 60, "the kiosk reconnecting")
            worker = hub(engine, broker)
            back = time.monotonic()
            wait(lambda: outbox.backlog() == 0, 120, "the outbox to drain")
            times.append((time.monotonic() - started, time.monotonic() - back))
    finally:
        link.stop()
        worker.stop()
        outbox.close()
        broker.close()
        engine.dispose()
    return times


def database_outage(url: str, work: Path, outage_s: float, rounds: int) -> list[float]:
    """Return, per round, the seconds from the database's return to the last ack."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    with transaction(engine) as session:
        register_kiosk(session, "kiosk-a", site="test", name="Bench kiosk")
    if engine.dialect.name == "sqlite":  # fail fast on the lock, as a long hold eventually does
        sa_event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=300"))
        engine.dispose()
    broker = LocalBroker(work / f"broker-{engine.dialect.name}", kiosks=("kiosk-a",), site="test")
    broker.start()
    worker = hub(engine, broker)
    kiosk = broker.connect("kiosk-a")
    acked: set[str] = set()
    kiosk.on_message = lambda _c, _u, m: acked.add(wire.decode_ack(m.payload).event_id)
    kiosk.subscribe(broker.topic("kiosk-a", Channel.ACKS), qos=1)
    times = []
    try:
        for _ in range(rounds):
            hold = _hold_postgres(url) if engine.dialect.name != "sqlite" else _hold_sqlite(url)
            sent = []
            for seq in range(20):
                event = wire.CardRefusedEvent(
                    event_id=wire.new_message_id(),
                    kiosk_id="kiosk-a",
                    seq=seq,
                    kiosk_time=datetime.now(UTC),
                    body=BODY,
                )
                sent.append(event.event_id)
                kiosk.publish(broker.topic("kiosk-a", Channel.EVENTS), wire.encode(event), qos=1)
                time.sleep(outage_s / 20)
            hold()  # the database is back
            back = time.monotonic()
            wait(lambda ids=set(sent): ids <= acked, 120, "every event sent meanwhile acked")
            times.append(time.monotonic() - back)
            assert worker.supervisor.gave_up is None
    finally:
        worker.stop()
        broker.close()
        engine.dispose()
    return times


def ingest_silenced(work: Path, rounds: int) -> list[tuple[str, float]]:
    """Return, per round and signal, the seconds until the web sees the ingest stuck."""
    engine = _sqlite_hub(work / "silenced.db")
    broker = LocalBroker(work / "broker-silenced", kiosks=("kiosk-a",), site="test")
    broker.start()
    times = []
    try:
        for round_ in range(rounds):
            for sig in (signal.SIGKILL, signal.SIGSTOP):
                process = _ingest_process(engine, broker, work / f"ingest-{round_}-{sig}.log")
                try:
                    wait(lambda: _ingest_state(engine) == "running", 60, "the ingest running")
                    process.send_signal(sig)
                    silenced = time.monotonic()
                    wait(lambda: _ingest_state(engine) == "stuck", 60, "the web seeing it stuck")
                    times.append((sig.name, time.monotonic() - silenced))
                finally:
                    process.kill()
                    process.wait()
    finally:
        broker.close()
        engine.dispose()
    return times


def _ingest_state(engine) -> str:
    with reading(engine) as session:
        return ingest_health(session).state


def _ingest_process(engine, broker: LocalBroker, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "commonshed",
        "hub",
        "--data-dir",
        str(broker.data_dir),
        "--database-url",
        str(engine.url),
        "ingest",
        "--mqtt-host",
        broker.host,
        "--mqtt-port",
        str(broker.port),
        "--broker-data-dir",
        str(broker.data_dir),
    ]
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def _sqlite_hub(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        register_kiosk(session, "kiosk-a", site="test", name="Bench kiosk")
    return engine


def _hold_postgres(url: str) -> Callable[[], None]:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )

    def release() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    return release


def _hold_sqlite(url: str) -> Callable[[], None]:
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        holder.execute("ROLLBACK")
        holder.close()

    return release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the database is away")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recovery-") as tmp:
        work = Path(tmp)
        restart = broker_restart(work, args.rounds)
        print(
            "broker restart, hub back after the kiosk: drained in "
            + ", ".join(f"{a:.1f} s ({b:.1f} s after the hub)" for a, b in restart)
        )
        silenced = ingest_silenced(work, args.rounds)
        print(
            "ingest silenced; the web says stuck after "
            + ", ".join(f"{t:.1f} s ({name})" for name, t in silenced)
        )
        for backend in ("sqlite", "postgresql"):
            with scratch_database(backend, args.pg_url, prefix="recovery") as url:
                times = database_outage(url, work, args.outage, args.rounds)
            print(
                f"{backend}: database away {args.outage:.0f} s, 20 events meanwhile; all acked "
                + ", ".join(f"{t:.1f} s" for t in times)
                + " after it came back (no restart)"
            )


if __name__ == "__main__":
    main()
