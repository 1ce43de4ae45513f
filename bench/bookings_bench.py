"""Benchmark bookings on SQLite and PostgreSQL, each figure beside a same-run baseline.

1. Availability: one resource's week of slots with N bookings (default 100,000) in the table,
   beside a primary-key SELECT of one booking through the same session machinery.
2. Contention: P processes x A attempts to book random slots of one resource's week, beside the
   same processes each inserting single rows into a scratch table.

    .venv/bin/python bench/bookings_bench.py                    # 100,000 bookings, 4 x 500
    .venv/bin/python bench/bookings_bench.py --bookings 10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from hub.bookings import Booking, add_resource, availability, create_booking
from hub.errors import Conflict, RuleViolation
from hub.infra import migrate
from hub.infra.db import make_engine, reading, transaction
from hub.members.roster import add_member

PG_ADMIN_URL = os.environ.get(
    "COMMONSHED_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ROOMY = dict(max_booking_minutes=120, max_minutes_per_week=7 * 24 * 60, max_future_bookings=100)
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
DATA_RESOURCES, DATA_MEMBERS, RACERS = 10, 50, 20
RACE_WEEK = NOW + timedelta(days=7 * 200)  # far beyond the bulk data: only the racers book it


# --- databases ----------------------------------------------------------------------------


def fresh_database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """Create an empty, migrated database; return its URL and a function that drops it."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        drop = lambda: None  # noqa: E731  (the temp dir goes away)
    else:
        name = f"commonshed_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = str(make_url(PG_ADMIN_URL).set(database=name))
        drop = lambda: _drop_pg(name)  # noqa: E731
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_scratch (id INTEGER PRIMARY KEY, n INTEGER)"
                if backend == "sqlite"
                else "CREATE TABLE bench_scratch (id SERIAL PRIMARY KEY, n INTEGER)"
            )
        )
    engine.dispose()
    return url, drop


def _drop_pg(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, bookings: int) -> tuple[int, int, list[int]]:
    """Fill the database with ``bookings`` bookings; return (measured resource, race resource,
    racing members)."""
    engine = make_engine(url)
    with transaction(engine) as session:
        resources = [
            add_resource(
                session, code=f"machine-{n}", name=f"Machine {n}", opening_hours=ALL_DAY, **ROOMY
            ).id
            for n in range(DATA_RESOURCES)
        ]
        race = add_resource(
            session, code="race", name="Raced machine", opening_hours=ALL_DAY, **ROOMY
        ).id
        members = [add_member(session, name=f"Member {n}").id for n in range(DATA_MEMBERS)]
        racers = [add_member(session, name=f"Racer {n}").id for n in range(RACERS)]
    _bulk_bookings(engine, resources, members, bookings)
    engine.dispose()
    return resources[0], race, racers


def _bulk_bookings(engine, resources: list[int], members: list[int], total: int) -> None:
    """Insert ``total`` non-overlapping bookings: each resource an hour apart, half past and
    half future."""
    per_resource = total // len(resources)
    first = NOW - timedelta(hours=per_resource // 2)
    rows = (
        {
            "resource_id": resource,
            "member_id": members[(i + r) % len(members)],
            "starts_at": first + timedelta(hours=i),
            "ends_at": first + timedelta(hours=i, minutes=30),
            "status": "booked",
            "created_at": NOW,
        }
        for r, resource in enumerate(resources)
        for i in range(per_resource)
    )
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 10_000:
            _insert(engine, batch)
            batch = []
    if batch:
        _insert(engine, batch)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # fresh planner statistics, as a live site has


def _insert(engine, rows: list[dict]) -> None:
    with transaction(engine) as session:
        session.execute(insert(Booking.__table__), rows)


# --- 1. availability ----------------------------------------------------------------------


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall time in ms of each of ``repeat`` calls (after a warm-up)."""
    for _ in range(min(10, repeat)):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_availability(url: str, resource_id: int, repeat: int) -> tuple[list[float], list[float]]:
    """Time a week of one resource's slots, and a primary-key SELECT, in read transactions."""
    engine, rng = make_engine(url), random.Random(1)
    week = date(2026, 11, 30)

    def week_of_slots():
        with reading(engine) as session:
            plans = availability(session, resource_id, week, 7, member_id=1, now=NOW)
        assert sum(len(p.slots) for p in plans) == 7 * 48

    def one_booking_by_id():
        with reading(engine) as session:
            session.exec(select(Booking).where(Booking.id == rng.randint(1, 1000))).first()

    result = time_calls(week_of_slots, repeat), time_calls(one_booking_by_id, repeat)
    engine.dispose()
    return result


# --- 2. contention ------------------------------------------------------------------------


def book_randomly(url, seed, attempts, race, racers, gate, results) -> None:
    """Try ``attempts`` random bookings of the raced resource's week; report latencies."""
    engine, rng, latencies, tally = make_engine(url), random.Random(seed), [], Counter()
    gate.wait()
    for _ in range(attempts):
        starts = RACE_WEEK + timedelta(minutes=30 * rng.randrange(7 * 48 - 4))
        ends = starts + timedelta(minutes=30 * rng.randint(1, 4))
        started = time.perf_counter()
        try:
            with transaction(engine) as session:
                create_booking(
                    session,
                    resource_id=race,
                    member_id=rng.choice(racers),
                    starts_at=starts,
                    ends_at=ends,
                    now=NOW,
                )
            tally["booked"] += 1
        except (Conflict, RuleViolation) as refusal:
            tally[type(refusal).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    results.put((latencies, dict(tally), time.perf_counter()))


def insert_rows(url, seed, attempts, race, racers, gate, results) -> None:
    """Insert ``attempts`` single rows into the scratch table, one transaction each."""
    engine, latencies = make_engine(url), []
    gate.wait()
    for n in range(attempts):
        started = time.perf_counter()
        with transaction(engine) as session:
            session.execute(text("INSERT INTO bench_scratch (n) VALUES (:n)"), {"n": n})
        latencies.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    results.put((latencies, {"inserted": attempts}, time.perf_counter()))


def contend(work, url: str, processes: int, attempts: int, race: int, racers: list[int]):
    """Run ``work`` in spawned processes released together; return (attempts/s, latencies,
    tally)."""
    context = multiprocessing.get_context("spawn")
    gate, results = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(target=work, args=(url, seed, attempts, race, racers, gate, results))
        for seed in range(processes)
    ]
    for worker in workers:
        worker.start()
    gate.wait()
    started = time.perf_counter()
    reports = [results.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(finished for _, _, finished in reports) - started
    latencies = [ms for found, _, _ in reports for ms in found]
    tally = sum((Counter(t) for _, t, _ in reports), Counter())
    return processes * attempts / elapsed, latencies, tally


# --- report -------------------------------------------------------------------------------


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def run_backend(backend: str, options) -> list[tuple]:
    """Return the table rows for one backend."""
    with tempfile.TemporaryDirectory() as workdir:
        url, drop = fresh_database(backend, Path(workdir))
        try:
            started = time.perf_counter()
            resource, race, racers = seed(url, options.bookings)
            print(
                f"[{backend}] seeded {options.bookings:,} bookings in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            week, by_id = bench_availability(url, resource, options.repeat)
            booked = contend(book_randomly, url, options.processes, options.attempts, race, racers)
            inserted = contend(insert_rows, url, options.processes, options.attempts, race, racers)
        finally:
            drop()
    print(f"[{backend}] contention outcomes: {dict(booked[2])}", flush=True)
    return [
        (
            backend,
            "availability, 1 resource x 7 days (ms)",
            statistics.median(week),
            p99(week),
            "SELECT booking by id (ms)",
            statistics.median(by_id),
            p99(by_id),
        ),
        (
            backend,
            f"book under contention {options.processes}x{options.attempts} (/s; ms)",
            booked[0],
            p99(booked[1]),
            "single-row INSERT, same processes (/s; ms)",
            inserted[0],
            p99(inserted[1]),
        ),
    ]


def print_table(rows: list[tuple]) -> None:
    header = ("backend", "measure", "median or /s", "p99 ms", "baseline", "median or /s", "p99 ms")
    widths = [max(len(_cell(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(_cell(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(value) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--attempts", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=200, help="availability calls to time")
    options = parser.parse_args(argv)
    rows = [row for backend in options.backends.split(",") for row in run_backend(backend, options)]
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
