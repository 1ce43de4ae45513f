"""Benchmark: import 10,000 members (with cards) from CSV, on SQLite and PostgreSQL.

Prints time and rows/s beside a same-run baseline: the same rows inserted with the raw DB-API
(executemany, one transaction) into a bare table on the same database, so a noisy machine
shows in both figures.

    .venv/bin/python bench/import_members.py [--rows 10000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import io
import time

from scratch_db import scratch_database  # bench/ is on the path when run as a script

from hub.bulk.csv_io import import_members
from hub.infra import migrate
from hub.infra.db import make_engine, transaction

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def members_csv(rows: int) -> str:
    """Return a CSV of ``rows`` members, each with one 4-byte card."""
    lines = ["number,name,email,phone,roles,cards"]
    lines += [
        f"{10000 + i},Member {i},m{i}@example.org,,member,{0xA0000000 + i:08X}" for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


def time_import(url: str, text: str) -> float:
    """Import ``text`` into a freshly migrated database at ``url``; return seconds."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    start = time.perf_counter()
    with transaction(engine) as session:
        report = import_members(session, io.StringIO(text))
    elapsed = time.perf_counter() - start
    assert report.written == report.rows, report.refusals[:3]
    engine.dispose()
    return elapsed


def time_raw_insert(url: str, rows: int) -> float:
    """Insert the same number of (member, card) pairs with raw executemany; return seconds."""
    data = [
        (f"{10000 + i}", f"Member {i}", f"m{i}@example.org", f"{0xA0000000 + i:08X}")
        for i in range(rows)
    ]
    engine = make_engine(url)
    with engine.raw_connection().driver_connection as conn:  # type: ignore[union-attr]
        cursor = conn.cursor()
        cursor.execute(
            "CREATE TABLE raw_member (number TEXT PRIMARY KEY, name TEXT, "
            "email TEXT, card TEXT UNIQUE)"
        )
        marker = "?" if engine.dialect.name == "sqlite" else "%s"
        start = time.perf_counter()
        cursor.execute("BEGIN") if engine.dialect.name == "sqlite" else None
        cursor.executemany(f"INSERT INTO raw_member VALUES ({', '.join([marker] * 4)})", data)
        conn.commit() if engine.dialect.name != "sqlite" else cursor.execute("COMMIT")
        elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    text = members_csv(args.rows)
    print(f"Import of {args.rows:,} members with cards from CSV (one transaction)")
    header = ("backend", "import s", "rows/s", "raw s", "raw rows/s", "ratio")
    print("{:<11} {:>9} {:>9} {:>8} {:>11} {:>6}".format(*header))
    for backend in ("sqlite", "postgresql"):
        with (
            scratch_database(backend, args.pg_url, prefix="import") as import_url,
            scratch_database(backend, args.pg_url, prefix="import-raw") as raw_url,
        ):
            ours, raw = time_import(import_url, text), time_raw_insert(raw_url, args.rows)
        print(
            f"{backend:<11} {ours:>9.2f} {args.rows / ours:>9,.0f} {raw:>8.2f} "
            f"{args.rows / raw:>11,.0f} {ours / raw:>5.1f}x"
        )


if __name__ == "__main__":
    main()
