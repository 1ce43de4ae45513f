"""Racing processes book and cancel the same slots; no two active bookings ever overlap.

Four processes (COMMONSHED_RACE_PROCESSES) each make 500 random attempts
(COMMONSHED_RACE_ATTEMPTS) on each backend. Every refusal must be a Conflict or a RuleViolation.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time as clock
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import and_, func
from sqlalchemy.orm import aliased
from sqlmodel import select

from hub.bookings import (
    ACTIVE_STATUSES,
    Booking,
    add_resource,
    cancel_booking,
    create_booking,
)
from hub.errors import Conflict, RuleViolation
from hub.infra.db import make_engine, reading, transaction
from tests.hub.builders import a_member

PROCESSES = int(os.environ.get("COMMONSHED_RACE_PROCESSES", "4"))
ATTEMPTS = int(os.environ.get("COMMONSHED_RACE_ATTEMPTS", "500"))
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday; London is on GMT
FIRST_DAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 09:00, opening time
DAYS, SLOTS_PER_DAY, SLOT = 3, 24, timedelta(minutes=30)
ROOMY = dict(max_booking_minutes=120, max_minutes_per_week=7 * 24 * 60, max_future_bookings=100)


def random_span(rng: random.Random) -> tuple[datetime, datetime]:
    """Return a random aligned span of 1-4 slots that fits inside one day's opening hours."""
    length = rng.randint(1, 4)
    start = rng.randrange(SLOTS_PER_DAY - length + 1)
    starts = FIRST_DAY + timedelta(days=rng.randrange(DAYS)) + start * SLOT
    return starts, starts + length * SLOT


def one_attempt(session, rng: random.Random, resources: list[int], members: list[int]) -> str:
    """Create (mostly) or cancel a random booking; return what was done."""
    member, roll = rng.choice(members), rng.random()
    own = session.exec(
        select(Booking.id).where(Booking.member_id == member, Booking.status.in_(ACTIVE_STATUSES))
    ).all()
    if own and roll < 0.15:
        cancel_booking(session, rng.choice(own), by_member_id=member, now=NOW)
        return "cancelled"
    starts, ends = random_span(rng)
    create_booking(
        session,
        resource_id=rng.choice(resources),
        member_id=member,
        starts_at=starts,
        ends_at=ends,
        now=NOW,
    )
    return "created"


def race(url, seed, attempts, resources, members, gate, results) -> None:
    """Run ``attempts`` random attempts in this process and report a tally of outcomes."""
    engine, rng = make_engine(url), random.Random(seed)
    tally, surprises = Counter(), []
    gate.wait()
    for _ in range(attempts):
        try:
            with transaction(engine) as session:
                tally[one_attempt(session, rng, resources, members)] += 1
        except (Conflict, RuleViolation) as refusal:
            lost_at_commit = "just booked" in refusal.message  # PostgreSQL's exclusion said no
            tally[type(refusal).__name__ + (" by the database" if lost_at_commit else "")] += 1
        except Exception as error:  # any other error is what this test is looking for
            surprises.append(repr(error))
    engine.dispose()
    results.put((dict(tally), surprises))


def run_race(url: str, resources: list[int], members: list[int]) -> tuple[Counter, list[str]]:
    """Start PROCESSES spawned racers together and gather their tallies."""
    context = multiprocessing.get_context("spawn")
    gate, results = context.Barrier(PROCESSES), context.Queue()
    racers = [
        context.Process(target=race, args=(url, seed, ATTEMPTS, resources, members, gate, results))
        for seed in range(PROCESSES)
    ]
    for racer in racers:
        racer.start()
    reports = [results.get(timeout=600) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    results.close()
    results.join_thread()
    tally = sum((Counter(t) for t, _ in reports), Counter())
    return tally, [s for _, found in reports for s in found]


def overlapping_pairs(engine) -> int:
    """Count pairs of active bookings of one resource whose times overlap."""
    first, second = aliased(Booking), aliased(Booking)
    query = (
        select(func.count())
        .select_from(first)
        .join(second, and_(first.resource_id == second.resource_id, first.id < second.id))
        .where(
            first.status.in_(ACTIVE_STATUSES),
            second.status.in_(ACTIVE_STATUSES),
            first.starts_at < second.ends_at,
            second.starts_at < first.ends_at,
        )
    )
    with reading(engine) as session:
        return session.exec(query).one()


@pytest.mark.slow
def test_racing_processes_never_make_overlapping_bookings(database_url):
    engine = make_engine(database_url)
    with transaction(engine) as session:
        resources = [
            add_resource(session, code=code, name=code.title(), **ROOMY).id
            for code in ("laser", "printer")
        ]
        members = [a_member(session, f"Racer {n}").id for n in range(6)]
    started = clock.perf_counter()
    tally, surprises = run_race(database_url, resources, members)
    elapsed = clock.perf_counter() - started
    print(f"\n{PROCESSES}x{ATTEMPTS} attempts on {engine.dialect.name}: {elapsed:.1f} s, {tally}")
    assert surprises == []
    assert sum(tally.values()) == PROCESSES * ATTEMPTS
    assert tally["created"] > 50 and tally["SlotTaken"] > 50  # the race really happened
    assert overlapping_pairs(engine) == 0
    engine.dispose()
