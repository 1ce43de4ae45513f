"""A network-sized run: 20 sites x 4 kiosks on bridged site brokers, the hub on PostgreSQL.

    .venv/bin/python bench/network_bench.py [--sites 20] [--kiosks 4] [--events 4000]
        [--workers 1,2,4] [--members 500] [--cut 5] [--partition-seconds 20] [--rounds 5]
        [--propagation-timeout 20] [--kiosk-processes 4] [--json PATH]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Issue 18's benchmark, on one machine, with real parts: a central Mosquitto and one Mosquitto
per site bridged to it (``broker.local.LocalBroker(..., bridge_to=central)``, the ordinary
bridge of ``broker.sites``); ``--sites`` x ``--kiosks`` lightweight kiosks, each the kiosk's
real durable outbox (``kiosk.outbox``) and MQTT link (``kiosk.link``) with its real
allow-list store (``kiosk.allowlist``), no screen and no pins, logged in to its site broker
with its own credentials, spread over ``--kiosk-processes`` processes; the hub's ingest as
``commonshed hub ... ingest`` processes (1, 2, then 4 of them, ``--workers``) on a scratch
PostgreSQL database. Each worker count is a fresh network and database.

Each run, in order:

1. baseline: a bare paho client per kiosk publishes ``--events`` payloads of the same mix
   (QoS 1) to its site broker; a bare subscriber on the hub's shared subscription at the central
   broker counts them. That is what the bridges carry with nothing behind them.
2. the day: 12 opening hours of realistic traffic, ``--events`` events over all kiosks (taps
   that open a door, lend or take back a tool, close the door; a refused card before every 10th
   tap, a repair logged after every 25th), stamped with the day's simulated times and written to
   the outboxes as fast as the kiosks go: the day compressed as far as this machine allows.
   Committed per second is counted at the hub's database, from the first event written to the
   last committed.
3. the partition: ``--cut`` sites lose their link (the central broker disables their bridge's
   login: the bridge is dropped and cannot reconnect) for 10 simulated minutes, played over
   ``--partition-seconds`` wall seconds, while every kiosk keeps tapping at the day's average
   rate; then the link returns. Catch-up: from the link's return to the cut-off kiosks'
   outboxes empty (all acked by the hub).
4. suspension: ``--rounds`` members are suspended one at a time (``suspend_member``, committed
   in this process); propagation is timed from the commit to each kiosk's allow-list store
   holding the member as suspended (which is what refuses the next tap).
5. lost and doubled, from the hub's database against what the outboxes numbered: every
   kiosk's seqs 0..n-1 must be in the inbox exactly once, and the loans opened must equal the
   loan_out events written.

CPU (percent of one core, averaged over the day) and memory (resident, peak) of each kind of
process: central broker, site brokers, hub workers, PostgreSQL backends of the scratch
database, kiosk processes, and this process (which drives and polls). Read from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from bench.hub_ingest_bench import WorkerProcess  # noqa: E402
from bench.network_kiosks import (  # noqa: E402
    EVENTS_PER_TAP,
    LOCKERS,
    Mix,
    encoded,
    member_card,
    tool_code,
)
from bench.scratch_db import PG_ADMIN_URL, scratch_database  # noqa: E402
from broker.client import subscribe_and_wait  # noqa: E402
from broker.dynsec import ADMIN_USERNAME, DynsecAdmin  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.provision import load_credentials  # noqa: E402
from broker.topics import (  # noqa: E402
    HUB_EVENTS_SHARED,
    Channel,
    bridge_state_topic,
    site_bridge_username,
)
from hub.infra import migrate  # noqa: E402
from hub.infra.db import make_engine, reading, transaction  # noqa: E402
from hub.infra.sync import current_version  # noqa: E402
from hub.inventory.registry import add_locker, add_tool, register_kiosk  # noqa: E402
from hub.loans.records import Loan  # noqa: E402
from hub.members.ranks import OPERATOR  # noqa: E402
from hub.members.roster import add_member, assign_card, member_for_card  # noqa: E402
from hub.members.standing import suspend_member  # noqa: E402
from hub.worker.inbox import InboxEvent  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DAY_MINUTES = 12 * 60  # the opening hours the day's events are spread over
PARTITION_MINUTES = 10
POLL_S = 0.2
CLK_TCK = os.sysconf("SC_CLK_TCK")


def site_id(number: int) -> str:
    return f"site-{number:02d}"


def kiosk_id(site: int, kiosk: int) -> str:
    return f"s{site:02d}-k{kiosk}"


class KioskProcess:
    """``network_kiosks.py``: one process running some of the kiosks."""

    def __init__(self, spec: dict[str, Any], log_path: Path) -> None:
        self.log = open(log_path, "ab")  # noqa: SIM115  (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve().parent / "network_kiosks.py")],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.send(spec)

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"kiosk process {self.pid} ended (see {self.log.name})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self.process.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.log.close()


class Kiosks:
    """All the kiosk processes: commands go to all, answers are merged."""

    def __init__(self, processes: list[KioskProcess]) -> None:
        self.processes = processes
        for process in processes:
            if process.answer() != "ready":
                raise RuntimeError("a kiosk process did not start")

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        for process in self.processes:
            process.send(command)
        merged: dict[str, Any] = {}
        for process in self.processes:
            merged.update(process.answer())
        return merged

    def status(self) -> dict[str, dict[str, Any]]:
        return self.ask({"cmd": "status"})

    def close(self) -> None:
        for process in self.processes:
            process.close()


# --- measuring processes ---------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of process ``pid`` in MB."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values["VmRSS"], values["VmHWM"]


@dataclass
class Usage:
    """CPU (% of one core over a window) and memory of each kind of process."""

    kinds: dict[str, list[int]]
    started: float = 0.0
    before: dict[int, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # kind -> % of one core
    rss: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # sum, max, count

    def start(self) -> None:
        self.started = time.monotonic()
        self.before = {pid: cpu_seconds(pid) for pids in self.kinds.values() for pid in pids}

    def stop(self) -> None:
        wall = time.monotonic() - self.started
        for kind, pids in self.kinds.items():
            used = sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids)
            self.cpu[kind] = 100 * used / wall
            peaks = [memory_mb(pid)[1] for pid in pids]
            self.rss[kind] = (sum(peaks), max(peaks, default=0.0), len(pids))


def pg_backends(engine: Any, database: str) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}
        )
        return [row[0] for row in rows]


# --- the network -----------------------------------------------------------------------------


@dataclass
class Network:
    central: LocalBroker
    sites: dict[str, LocalBroker]  # site id -> its broker
    kiosks: dict[str, str]  # kiosk id -> site id


@contextmanager
def network(root: Path, sites: int, kiosks: int) -> Iterator[Network]:
    """Start the central broker and a bridged broker per site, with its kiosks' logins."""
    with ExitStack() as stack:
        central = stack.enter_context(LocalBroker(root / "central", kiosks=(), site="main"))
        site_brokers: dict[str, LocalBroker] = {}
        where: dict[str, str] = {}
        for s in range(1, sites + 1):
            ids = [kiosk_id(s, k) for k in range(1, kiosks + 1)]
            broker = LocalBroker(root / site_id(s), kiosks=ids, site=site_id(s), bridge_to=central)
            site_brokers[site_id(s)] = stack.enter_context(broker)
            where.update(dict.fromkeys(ids, site_id(s)))
        yield Network(central, site_brokers, where)


def prepare_hub(url: str, net: Network, members: int) -> None:
    """Migrate; register every kiosk at its site with its lockers and tools; add members."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with transaction(engine) as session:
            for kiosk, site in net.kiosks.items():
                register_kiosk(session, kiosk, site=site, name=f"Kiosk {kiosk}")
                for slot in range(1, LOCKERS + 1):
                    add_locker(session, kiosk, slot)
                    add_tool(
                        session,
                        code=tool_code(kiosk, slot),
                        name=f"Tool {slot} of {kiosk}",
                        category="bench",
                        kiosk_id=kiosk,
                        slot=slot,
                    )
            for number in range(members):
                member = add_member(session, name=f"Member {number}")
                assign_card(session, member.id, member_card(number))
    finally:
        engine.dispose()


class BareCounter:
    def __init__(self, expected: int) -> None:
        self.expected, self.received = expected, 0
        self.done = threading.Event()

    def on_message(self, _client: mqtt.Client, _userdata: object, _message: object) -> None:
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


def measure_baseline(net: Network, events: int, members: int, timeout: float = 300.0) -> float:
    """Messages/s from a bare paho client per kiosk (on its site broker, through the bridges)
    to a bare subscriber on the hub's shared subscription at the central broker."""
    ids = list(net.kiosks)
    per_kiosk = max(1, events // len(ids))
    at = datetime.now(UTC)
    payloads: dict[str, list[bytes]] = {}
    for kiosk in ids:
        mix, out = Mix(kiosk, members, seed=1), []
        while len(out) < per_kiosk:
            out += [encoded(kiosk, len(out), e, at) for e in mix.tap()]
        payloads[kiosk] = out[:per_kiosk]
    total = per_kiosk * len(ids)
    counter = BareCounter(total)
    hub = net.central.connect("hub", client_id="bare-subscriber", on_message=counter.on_message)
    clients: dict[str, mqtt.Client] = {}
    try:
        subscribe_and_wait(hub, HUB_EVENTS_SHARED)
        for kiosk in ids:
            # clean_start and no session: the kiosk's own link starts afresh afterwards
            clients[kiosk] = net.sites[net.kiosks[kiosk]].connect(kiosk, client_id=kiosk)
        started = time.perf_counter()
        for index in range(per_kiosk):
            for kiosk in ids:
                client = clients[kiosk]
                topic = net.sites[net.kiosks[kiosk]].topic(kiosk, Channel.EVENTS)
                client.publish(topic, payloads[kiosk][index], qos=1)
        if not counter.done.wait(timeout):
            raise TimeoutError(f"baseline: {counter.received} of {total} in {timeout} s")
        return total / (time.perf_counter() - started)
    finally:
        for client in [hub, *clients.values()]:
            client.disconnect()
            client.loop_stop()


def cut_off(central: LocalBroker, sites: list[str], *, disabled: bool) -> None:
    """Cut (or restore) ``sites``' links: the central broker drops and refuses their bridges'
    login (the dynamic-security plugin's disableClient), or takes it again."""
    command = "disableClient" if disabled else "enableClient"
    password = load_credentials(central.data_dir, ADMIN_USERNAME).password
    with DynsecAdmin(central.host, central.port, password) as admin:
        admin.run([{"command": command, "username": site_bridge_username(s)} for s in sites])


def inbox_count(engine: Any) -> int:
    with reading(engine) as session:
        return int(session.exec(select(func.count()).select_from(InboxEvent)).one())


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = POLL_S) -> float:
    """Poll ``check`` until true; return the monotonic time it was first seen true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(every)
    return time.monotonic()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class RunResult:
    workers: int
    baseline: float
    events: int
    committed_rate: float
    day_written_s: float
    day_committed_s: float
    partition_events: int
    link_back_s: float
    catch_up_s: float
    propagation: list[float]  # every kiosk, every round (s)
    last_kiosk: list[float]  # per complete round: the last kiosk (s)
    missed: int  # kiosks x rounds that never held the suspension within the timeout
    lost: int
    doubled: int
    rejected: int
    retried: int  # batches a worker had to apply again (its log says so)
    deadlocks: int  # of which PostgreSQL broke a deadlock
    usage: Usage


def run_once(args: argparse.Namespace, workers: int, root: Path) -> RunResult:
    """One full run: a fresh network, database and kiosks; ``workers`` ingest processes."""
    with ExitStack() as stack:
        net = stack.enter_context(network(root / "brokers", args.sites, args.kiosks))
        url = stack.enter_context(scratch_database("postgresql", args.pg_url, prefix="network"))
        database = url.rsplit("/", 1)[1]
        prepare_hub(url, net, args.members)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        baseline = measure_baseline(net, args.events, args.members)
        print(f"  baseline (bare subscriber at the central broker): {baseline:,.0f} msg/s")

        # the kiosks, spread over a few processes
        ids = list(net.kiosks)
        groups = [ids[n :: args.kiosk_processes] for n in range(args.kiosk_processes)]
        processes = []
        for number, group in enumerate(g for g in groups if g):
            spec = {
                "members": args.members,
                "kiosks": [
                    {
                        "id": kiosk,
                        "site": net.kiosks[kiosk],
                        "host": net.sites[net.kiosks[kiosk]].host,
                        "port": net.sites[net.kiosks[kiosk]].port,
                        "password": net.sites[net.kiosks[kiosk]].credentials[kiosk].password,
                        "data_dir": str(root / "kiosks" / kiosk),
                    }
                    for kiosk in group
                ],
            }
            processes.append(KioskProcess(spec, root / f"kiosks-{number}.log"))
        kiosks = Kiosks(processes)
        stack.callback(kiosks.close)
        group = [WorkerProcess(url, net.central, root, n) for n in range(1, workers + 1)]
        for worker in group:
            stack.callback(worker.stop)
        wait_for(
            lambda: all(s["allowlist"] for s in kiosks.status().values()),
            120,
            "every kiosk holding an allow-list",
            every=0.5,
        )

        # the day
        usage = Usage(
            {
                "central broker": [net.central.process.pid or 0],
                "site brokers": [b.process.pid or 0 for b in net.sites.values()],
                "hub workers": [w.process.pid for w in group],
                "postgres backends": pg_backends(engine, database),
                "kiosk processes": [p.pid for p in processes],
                "this driver": [os.getpid()],
            }
        )
        day_start = datetime.now(UTC) - timedelta(hours=13)
        taps = max(1, round(args.events / EVENTS_PER_TAP / len(ids)))
        usage.start()
        began = time.monotonic()
        for process in processes:
            process.send(
                {
                    "cmd": "traffic",
                    "taps": taps,
                    "seconds": 0,
                    "sim_start": day_start.isoformat(),
                    "sim_minutes": DAY_MINUTES,
                }
            )
        written = sum(sum(p.answer().values()) for p in processes)
        written_at = time.monotonic()
        done = wait_for(lambda: inbox_count(engine) >= written, 600, "the day committed")
        usage.stop()
        rate = written / (done - began)
        print(
            f"  day: {written:,} events written in {written_at - began:.1f} s, committed "
            f"{done - began:.1f} s after the first: {rate:,.0f} events/s"
        )

        # the partition
        cut = list(net.sites)[-args.cut :] if args.cut else []
        cut_kiosks = [k for k, s in net.kiosks.items() if s in cut]
        states: dict[str, bytes] = {}
        watcher = net.central.connect(
            "hub",
            client_id="bench-bridge-watch",
            on_message=lambda _c, _u, m: states.__setitem__(m.topic, bytes(m.payload)),
        )
        stack.callback(watcher.loop_stop)
        stack.callback(watcher.disconnect)
        for site in cut:
            subscribe_and_wait(watcher, bridge_state_topic(site))
        wait_for(
            lambda: all(states.get(bridge_state_topic(s)) == b"1" for s in cut),
            30,
            "the cut sites' bridges connected",
        )
        # NOTE: a bridge the central broker drops by administrative action leaves no will
        # (Mosquitto 2.0.11): its state stays "1" meanwhile; the returning bridge says "1" again.
        cut_off(net.central, cut, disabled=True)
        states.clear()
        partition_taps = max(1, round(taps * PARTITION_MINUTES / DAY_MINUTES))
        for process in processes:
            process.send(
                {
                    "cmd": "traffic",
                    "taps": partition_taps,
                    "seconds": args.partition_seconds,
                    "sim_start": (day_start + timedelta(minutes=DAY_MINUTES)).isoformat(),
                    "sim_minutes": PARTITION_MINUTES,
                }
            )
        partition_events = sum(sum(p.answer().values()) for p in processes)
        cut_off(net.central, cut, disabled=False)
        back = time.monotonic()
        link_back = wait_for(
            lambda: all(states.get(bridge_state_topic(s)) == b"1" for s in cut),
            60,
            "the cut sites' bridges back",
            every=0.05,
        )
        caught_up = wait_for(
            lambda: all(s["backlog"] == 0 for k, s in kiosks.status().items() if k in cut_kiosks),
            300,
            "the cut-off kiosks caught up",
            every=0.1,
        )
        print(
            f"  partition: {len(cut)} sites cut off for {args.partition_seconds} s "
            f"({PARTITION_MINUTES} simulated minutes), {partition_events:,} events meanwhile; "
            f"bridges back {link_back - back:.1f} s after the link, caught up after "
            f"{caught_up - back:.1f} s"
        )

        # suspensions
        wait_for(
            lambda: all(s["backlog"] == 0 for s in kiosks.status().values()),
            300,
            "every outbox empty",
        )
        propagation: list[float] = []  # every kiosk that got it, every round
        last: list[float] = []  # per round in which every kiosk got it
        missed = 0  # kiosks that did not hold the suspension within the timeout
        for round_ in range(args.rounds):
            card = member_card(round_)
            with transaction(engine) as session:
                member = member_for_card(session, card)
                suspend_member(session, OPERATOR, member.id, "network benchmark")
            committed = time.time()

            def seen_everywhere(card: str = card) -> bool:
                seen = kiosks.ask({"cmd": "suspended"})
                return all(card in cards for cards in seen.values())

            try:
                wait_for(seen_everywhere, args.propagation_timeout, "", every=0.25)
            except TimeoutError:
                with reading(engine) as session:
                    version = current_version(session)
                held = sorted({s["allowlist"] for s in kiosks.status().values()})
                print(
                    f"  suspension {round_ + 1}: not at every kiosk within "
                    f"{args.propagation_timeout} s (hub's sync version {version}, the kiosks "
                    f"hold allow-list versions {held})"
                )
            seen = kiosks.ask({"cmd": "suspended"})
            delays = [cards[card] - committed for cards in seen.values() if card in cards]
            propagation += delays
            missed += len(seen) - len(delays)
            if len(delays) == len(seen):
                last.append(max(delays))
        print(
            f"  suspension to all {len(ids)} kiosks: p50 {percentile(propagation, 0.5):.2f} s, "
            f"p99 {percentile(propagation, 0.99):.2f} s, last kiosk (median of "
            f"{len(last)} complete rounds) {median(last):.2f} s; missed {missed}"
        )

        # lost and doubled
        status = kiosks.status()
        lost, doubled, rejected = count_lost_doubled(engine, status)
        print(f"  lost {lost}, doubled {doubled} (hub rejected {rejected})")
        retried, deadlocks = worker_troubles(root)
        print(f"  the workers retried {retried} batches ({deadlocks} PostgreSQL deadlocks)")
        return RunResult(
            workers=workers,
            baseline=baseline,
            events=written,
            committed_rate=rate,
            day_written_s=written_at - began,
            day_committed_s=done - began,
            partition_events=partition_events,
            link_back_s=link_back - back,
            catch_up_s=caught_up - back,
            propagation=propagation,
            last_kiosk=last,
            missed=missed,
            lost=lost,
            doubled=doubled,
            rejected=rejected,
            retried=retried,
            deadlocks=deadlocks,
            usage=usage,
        )


def worker_troubles(root: Path) -> tuple[int, int]:
    """(batches retried, deadlocks detected), as the workers' logs tell."""
    retried = deadlocks = 0
    for path in root.glob("hub-worker-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            retried += " retried (" in line
            deadlocks += "deadlock detected" in line
    return retried, deadlocks


def count_lost_doubled(engine: Any, status: dict[str, dict[str, Any]]) -> tuple[int, int, int]:
    """Against each kiosk's outbox numbering (seqs 0..next_seq-1) and loans written: return
    (lost, doubled, rejected) as the hub's database has them."""
    with reading(engine) as session:
        rows = session.exec(select(InboxEvent.kiosk_id, InboxEvent.seq, InboxEvent.outcome)).all()
        loans = int(session.exec(select(func.count()).select_from(Loan)).one())
    seen: dict[tuple[str, int], int] = {}
    rejected = 0
    for kiosk, seq, outcome in rows:
        seen[(kiosk, seq)] = seen.get((kiosk, seq), 0) + 1
        rejected += outcome != "applied"
    expected = {(k, seq) for k, s in status.items() for seq in range(s["next_seq"])}
    lost = len(expected - seen.keys())
    doubled = sum(n - 1 for n in seen.values()) + len(seen.keys() - expected)
    loans_written = sum(s["loans"] for s in status.values())
    lost += max(0, loans_written - loans)
    doubled += max(0, loans - loans_written)
    return lost, doubled, rejected


# --- the report ------------------------------------------------------------------------------


def report(args: argparse.Namespace, results: list[RunResult]) -> None:
    kiosks = args.sites * args.kiosks
    print(
        f"\nNetwork: {args.sites} sites x {args.kiosks} kiosks ({kiosks}), each site its own "
        f"Mosquitto bridged to the central one; hub on PostgreSQL; {args.members} members, "
        f"{kiosks * LOCKERS} tools.\nThe day: 12 opening hours, as fast as the kiosks write it; "
        f"partition: {args.cut} sites cut off for {PARTITION_MINUTES} simulated minutes = "
        f"{args.partition_seconds} s here (1 simulated minute = "
        f"{args.partition_seconds / PARTITION_MINUTES:.1f} s), traffic at the day's average rate."
    )
    print(
        f"{'workers':>7} {'events':>7} {'committed/s':>12} {'bare sub/s':>11} {'ratio':>6} "
        f"{'bridges back s':>15} {'catch-up s':>11} {'susp. p50 s':>12} {'p99 s':>6} "
        f"{'last p50 s':>11} {'missed':>7} {'lost':>5} {'doubled':>8} {'retried':>8}"
    )
    for r in results:
        print(
            f"{r.workers:>7} {r.events:>7,} {r.committed_rate:>12,.0f} {r.baseline:>11,.0f} "
            f"{r.committed_rate / r.baseline:>5.2f}x {r.link_back_s:>15.1f} {r.catch_up_s:>11.1f} "
            f"{percentile(r.propagation, 0.5):>12.2f} {percentile(r.propagation, 0.99):>6.2f} "
            f"{median(r.last_kiosk):>11.2f} {r.missed:>7} {r.lost:>5} {r.doubled:>8} "
            f"{r.retried:>8}"
        )
    print("\nCPU (% of one core, over the day) and peak resident memory (MB) per kind of process")
    kinds = list(results[0].usage.kinds)
    header = "".join(f"{kind:>22}" for kind in kinds)
    print(f"{'workers':>7}{header}")
    for r in results:
        cells = "".join(
            f"{r.usage.cpu[k]:>8.0f}% {r.usage.rss[k][0]:>7.0f} MB/{r.usage.rss[k][2]:<2}"
            for k in kinds
        )
        print(f"{r.workers:>7}{cells}")
    print("(memory: the sum over the processes of that kind / how many)")


def as_json(result: RunResult) -> dict[str, Any]:
    figures = {k: v for k, v in vars(result).items() if k != "usage"}
    figures["cpu_percent"] = result.usage.cpu
    figures["peak_rss_mb"] = {kind: rss[0] for kind, rss in result.usage.rss.items()}
    return figures


def show_logs(root: Path, lines: int = 15) -> None:
    """Print the last lines of the kiosk processes' and workers' logs (after a failure)."""
    for path in sorted(root.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {path.name}", *tail, sep="\n", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--kiosks", type=int, default=4, help="kiosks per site")
    parser.add_argument("--events", type=int, default=4_000, help="the day's events, all kiosks")
    parser.add_argument("--workers", default="1,2,4", help="ingest worker counts, one run each")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--cut", type=int, default=5, help="sites cut off in the partition")
    parser.add_argument("--partition-seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5, help="suspensions timed")
    parser.add_argument(
        "--propagation-timeout",
        type=float,
        default=20.0,
        help="seconds a suspension may take to reach every kiosk before it counts as missed",
    )
    parser.add_argument("--kiosk-processes", type=int, default=4)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    parser.add_argument("--json", type=Path, help="also write each run's figures here")
    args = parser.parse_args()
    results: list[RunResult] = []
    failed: list[str] = []
    for workers in (int(n) for n in args.workers.split(",")):
        load = "/".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"{workers} ingest worker(s), load average {load} (1/5/15 min):", flush=True)
        with tempfile.TemporaryDirectory(prefix="network-bench-") as tmp:
            try:
                results.append(run_once(args, workers, Path(tmp)))
            except TimeoutError as error:  # the other worker counts still run
                show_logs(Path(tmp))
                failed.append(f"{workers} worker(s): {error}")
            except Exception:
                show_logs(Path(tmp))
                raise
    if results:
        report(args, results)
    for failure in failed:
        print(f"did not finish: {failure}")
    print(f"load average at the end: {'/'.join(f'{n:.1f}' for n in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps([as_json(r) for r in results], indent=1))
    if any(r.lost or r.doubled for r in results):
        sys.exit("lost or doubled events")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
