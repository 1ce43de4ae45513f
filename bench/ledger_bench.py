"""Measure the timebank ledger at size: balances, the balance sheet and posting a transfer.

    .venv/bin/python bench/ledger_bench.py                    # 1,000,000 entries, both backends
    .venv/bin/python bench/ledger_bench.py --entries 100000 --backend sqlite

Each backend gets a fresh, migrated database (a temporary SQLite file; a throw-away PostgreSQL
database, dropped afterwards). The ledger is filled in bulk, bypassing the services: SQLAlchemy
Core ``executemany`` in one transaction on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. The
generated transfers keep every member within the default credit limit, like real ones. Then the
hub's own services are timed beside a same-run baseline on the same database: a bare
``SELECT 1`` round trip and a raw one-row insert with its own commit.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from scratch_db import scratch_database  # bench/ is on the path when run as a script
from sqlalchemy import Engine, insert, text

from hub.infra import migrate
from hub.infra.db import make_engine, reading, transaction
from hub.members.roster import Member
from hub.timebank.ledger import (
    DEFAULT_MEMBER_CREDIT_LIMIT,
    Account,
    AccountKind,
    Entry,
    Transfer,
    balance,
    exchange_hours,
)
from hub.timebank.statements import balance_sheet

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHUNK = 20_000
START = datetime(2020, 1, 1, tzinfo=UTC)


def main() -> None:
    """Parse the options, run each backend and print one table."""
    options = _parse_args()
    results = {}
    for backend in ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]:
        with scratch_database(backend, options.pg_url, prefix="ledger") as url:
            results[backend] = _run(url, options)
    _print_table(results, options)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries to load")
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--posts", type=int, default=500, help="transfers posted and timed")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="an admin URL to create a db")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args()


# --- the run ------------------------------------------------------------------------------


def _run(url: str, options: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Load the ledger and return {measure: (p50 ms, p99 ms)}."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(options.seed)
    began = time.perf_counter()
    balances = _load(engine, options.members, options.entries, rng)
    load_seconds = time.perf_counter() - began
    print(f"{engine.dialect.name}: loaded {options.entries:,} entries in {load_seconds:.1f} s")
    results = {
        "baseline: SELECT 1 round trip": _time(lambda: _select_one(engine), 500),
        "baseline: raw 1-row insert + commit": _time(_raw_insert(engine), 500),
        "balance of one member": _time(_member_balance(engine, options.members, rng), 200),
        "balance sheet (all accounts)": _time(lambda: _sheet(engine), 10),
        "post a transfer (exchange_hours)": _time(_poster(engine, balances, rng), options.posts),
    }
    engine.dispose()
    return results


def _time(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Run ``action`` ``repeat`` times (after two warm-ups); return p50 and p99 in ms."""
    for _ in range(2):
        action()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    cut = statistics.quantiles(samples, n=100, method="inclusive") if repeat > 1 else samples * 99
    return statistics.median(samples), cut[98]


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1").scalar()


def _raw_insert(engine: Engine) -> Callable[[], None]:
    """Return an action inserting one row into a scratch table, each in its own commit."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE bench_scratch (id INTEGER PRIMARY KEY, v INTEGER)")
    counter = iter(range(1, 10**9))

    def action() -> None:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO bench_scratch (id, v) VALUES (:i, 1)"), {"i": next(counter)}
            )

    return action


def _member_balance(engine: Engine, members: int, rng: random.Random) -> Callable[[], Decimal]:
    def action() -> Decimal:
        with reading(engine) as session:
            return balance(session, rng.randint(2, members + 1))  # account 1 is the pool

    return action


def _sheet(engine: Engine) -> None:
    with reading(engine) as session:
        assert sum(row.balance for row in balance_sheet(session)) == 0


def _poster(engine: Engine, balances: dict[int, Decimal], rng: random.Random) -> Callable[[], None]:
    """Return an action posting one exchange between two random members, as the hub would.

    Payers are drawn from members holding at least an hour, so no post is refused.
    """
    member_ids = sorted(balances)
    payers = [m for m in member_ids if balances[m] >= 1]

    def action() -> None:
        payer, payee = rng.choice(payers), rng.choice(member_ids)
        payee = payee if payee != payer else member_ids[member_ids.index(payer) - 1]
        with transaction(engine) as session:
            exchange_hours(
                session,
                key=f"bench-{uuid.uuid4()}",
                payer_id=payer,
                payee_id=payee,
                hours="0.25",
                description="Benchmark exchange",
                category="bench",
            )

    return action


# --- bulk load ----------------------------------------------------------------------------


def _load(engine: Engine, members: int, entries: int, rng: random.Random) -> dict[int, Decimal]:
    """Insert members, accounts and ``entries`` entries; return member balances by member id."""
    member_rows = [
        {
            "id": n,
            "number": str(1000 + n),
            "name": f"Member {n}",
            "status": "active",
            "roles": "member",
            "joined_at": START,
        }
        for n in range(1, members + 1)
    ]
    # Account 1 is the pool; member n's account is n + 1.
    account_rows = [
        {
            "id": 1,
            "kind": AccountKind.COMMUNITY,
            "member_id": None,
            "credit_limit": None,
            "created_at": START,
        }
    ]
    account_rows += [
        {
            "id": n + 1,
            "kind": AccountKind.MEMBER,
            "member_id": n,
            "credit_limit": DEFAULT_MEMBER_CREDIT_LIMIT,
            "created_at": START,
        }
        for n in range(1, members + 1)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Member.__table__), member_rows)
        connection.execute(insert(Account.__table__), account_rows)
    held = {n: Decimal("0.00") for n in range(1, members + 1)}
    transfers = _generated_transfers(entries // 2, held, rng)
    if engine.dialect.name == "sqlite":
        _load_sqlite(engine, transfers)
    else:
        _load_postgresql(engine, transfers, members)
    return held


def _generated_transfers(
    count: int, held: dict[int, Decimal], rng: random.Random
) -> Iterator[tuple]:
    """Yield (id, when, payer account, payee account, hours) keeping members within limits."""
    members = len(held)
    for transfer_id in range(1, count + 1):
        hours = Decimal(rng.randint(25, 300)) / 100
        payer, payee = rng.randint(1, members), rng.randint(1, members)
        if payer == payee or held[payer] - hours < DEFAULT_MEMBER_CREDIT_LIMIT:
            payer = None  # the pool pays instead (a repair credit)
        else:
            held[payer] -= hours
        held[payee] += hours
        when = START + timedelta(minutes=transfer_id)
        yield transfer_id, when, payer + 1 if payer else 1, payee + 1, hours


def _load_sqlite(engine: Engine, transfers: Iterator[tuple]) -> None:
    """Insert transfers and entries with Core executemany, in chunks, in one transaction."""
    with engine.begin() as connection:
        for chunk in _chunks(transfers, CHUNK):
            connection.execute(
                insert(Transfer.__table__),
                [
                    {
                        "id": t,
                        "key": f"load-{t}",
                        "kind": "exchange" if payer > 1 else "repair_credit",
                        "description": "Loaded",
                        "category": "bench",
                        "created_at": when,
                    }
                    for t, when, payer, _, _ in chunk
                ],
            )
            connection.execute(
                insert(Entry.__table__),
                [
                    row
                    for t, _, payer, payee, hours in chunk
                    for row in (
                        {"id": 2 * t - 1, "transfer_id": t, "account_id": payer, "amount": -hours},
                        {"id": 2 * t, "transfer_id": t, "account_id": payee, "amount": hours},
                    )
                ],
            )


def _load_postgresql(engine: Engine, transfers: Iterator[tuple], members: int) -> None:
    """COPY transfers and entries in, then move the id sequences past them and ANALYZE."""
    raw = engine.raw_connection()
    try:
        rows = list(transfers)
        with raw.cursor() as cursor:
            with cursor.copy(
                "COPY ledger_transfer (id, key, kind, description, category, created_at) FROM STDIN"
            ) as copy:
                for t, when, payer, _, _ in rows:
                    copy.write_row(
                        (
                            t,
                            f"load-{t}",
                            "exchange" if payer > 1 else "repair_credit",
                            "Loaded",
                            "bench",
                            when,
                        )
                    )
            with cursor.copy(
                "COPY ledger_entry (id, transfer_id, account_id, amount) FROM STDIN"
            ) as copy:
                for t, _, payer, payee, hours in rows:
                    copy.write_row((2 * t - 1, t, payer, -hours))
                    copy.write_row((2 * t, t, payee, hours))
            for table in ("member", "ledger_account", "ledger_transfer", "ledger_entry"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
    finally:
        raw.close()
    # VACUUM sets the visibility map, so balance sums can be index-only scans as in a live db.
    plain_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _chunks(items: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- report -------------------------------------------------------------------------------


def _print_table(
    results: dict[str, dict[str, tuple[float, float]]], options: argparse.Namespace
) -> None:
    backends = list(results)
    print(
        f"\nledger: {options.entries:,} entries, {options.members:,} members; "
        f"{options.posts} posts timed; times in ms (p50 / p99)"
    )
    print(f"{'measure':<38}" + "".join(f"{b:>22}" for b in backends))
    for measure in next(iter(results.values())):
        cells = "".join(
            f"{results[b][measure][0]:>11.3f} /{results[b][measure][1]:>9.3f}" for b in backends
        )
        print(f"{measure:<38}{cells}")


if __name__ == "__main__":
    main()
