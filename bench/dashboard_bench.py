"""Measure the steward's front page and tool board at size, beside a trivial endpoint.

    .venv/bin/python bench/dashboard_bench.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/dashboard_bench.py --backend sqlite --requests 200

Each backend gets a fresh, migrated database (a temporary SQLite file; a throw-away PostgreSQL
database, dropped afterwards) holding 1,000 tools in 20 kiosks of 50 lockers, 5,000 members and
200,000 loans (the last 300 still out, 60 of them overdue), plus the things a front page shows:
category maintenance plans, tickets, pending repair claims, kiosk statuses and door alarms. The
bulk rows are written with SQLAlchemy Core ``executemany`` (``connection.execute(insert(t),
rows)``) in chunks of 20,000 inside one transaction, bypassing the services; the few rows
with rules (plans, tickets, claims) go through the hub's services.

Requests go through Flask's test client, in this process, signed in as a steward: that times
the application (routing, queries, templates) without a network or a WSGI server. The trivial
endpoint is a route added here that returns a constant ("ok") through the same app, hooks and
signed-in session: the bare cost of a request, measured in the same run on the same data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta

from scratch_db import scratch_database  # bench/ is on the path when run as a script
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from dashboard import create_app, database
from hub.infra import migrate
from hub.infra.clock import utcnow
from hub.infra.db import make_engine, transaction
from hub.inventory import fleet
from hub.inventory.registry import Kiosk, Locker, Tool
from hub.loans.lending import Loan
from hub.maintenance import plans, tickets
from hub.members.credentials import set_password
from hub.members.roster import Member
from hub.timebank import claims

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
KIOSKS, LOCKERS, MEMBERS, LOANS, OUT, OVERDUE = 20, 50, 5_000, 200_000, 300, 60
CHUNK = 20_000
PASSWORD = "bench-steward-password"
CATEGORIES = ["power tools", "hand tools", "garden", "access", "cleaning"]
# Not in the migrations (hub's tables are not the dashboard's to change): the index that makes
# counting each tool's loans since its last service an index range instead of all its loans.
LOAN_TOOL_INDEX = "CREATE INDEX ix_loan_tool_out_at ON loan (tool_id, out_at)"
TRIVIAL_PATH = "/bench/constant"
PAGES = {
    "constant route (trivial)": TRIVIAL_PATH,
    "/steward/ (front page)": "/steward/",
    "/steward/live (unchanged, 304)": "/steward/live",
    "/steward/tools (tool board)": "/steward/tools",
}


def main() -> None:
    """Parse the options, run each backend and print one table."""
    options = _parse_args()
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    results = {}
    for backend in backends:
        with scratch_database(backend, options.pg_url, prefix="dashboard") as url:
            results[backend] = _run(url, options.requests, options.loan_tool_index)
    _print_table(results, options.requests)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL admin URL")
    parser.add_argument(
        "--loan-tool-index",
        action="store_true",
        help=f"also create the index the front page wants: {LOAN_TOOL_INDEX}",
    )
    return parser.parse_args()


# --- the data -----------------------------------------------------------------------------


def _fill(url: str, loan_tool_index: bool) -> None:
    """Migrate, bulk-insert the library and its history, then add the front page's work."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            for table, rows in _bulk_rows():
                for start in range(0, len(rows), CHUNK):
                    connection.execute(insert(table), rows[start : start + CHUNK])
            if loan_tool_index:
                connection.execute(text(LOAN_TOOL_INDEX))
            if connection.dialect.name == "postgresql":  # as autovacuum would have done
                connection.execute(text("ANALYZE"))
        print(f"  bulk insert: {time.perf_counter() - started:.1f} s")
        with transaction(engine) as session:
            _add_front_page_work(session)
    finally:
        engine.dispose()


def _bulk_rows():
    """Yield (table, rows) for kiosks, lockers, members, tools and loans, in insert order."""
    rng, now = random.Random(7), utcnow()
    kiosks = [f"kiosk-{k:02d}" for k in range(KIOSKS)]
    yield (
        Kiosk.__table__,
        [{"id": k, "site": "north", "name": f"Kiosk {k}", "registered_at": now} for k in kiosks],
    )
    lockers = [(k, slot) for k in kiosks for slot in range(1, LOCKERS + 1)]
    yield (
        Locker.__table__,
        [
            {"id": i + 1, "kiosk_id": k, "slot": slot, "label": None}
            for i, (k, slot) in enumerate(lockers)
        ],
    )
    yield Member.__table__, [_member(i, now) for i in range(MEMBERS)]
    yield Tool.__table__, [_tool(i, now) for i in range(len(lockers))]
    yield Loan.__table__, _loans(rng, now, tools=len(lockers))


def _member(i: int, now) -> dict:
    roles = "member steward" if i == 0 else "member"
    return {
        "number": str(1001 + i),
        "name": f"Member {i}",
        "email": None,
        "phone": None,
        "status": "active",
        "status_reason": None,
        "roles": roles,
        "joined_at": now,
    }


def _tool(i: int, now) -> dict:
    out = i < OUT  # the first tools are the ones still out
    return {
        "code": f"T-{i:04d}",
        "name": f"Tool {i}",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "status": "on_loan" if out else "available",
        "status_reason": None,
        "locker_id": i + 1,
        "training_id": None,
        "loan_days": 7,
        "added_at": now,
    }


def _loans(rng: random.Random, now, tools: int) -> list[dict]:
    """Return closed loans spread over two years, then one open loan for each of the first tools."""
    rows = []
    for i in range(LOANS - OUT):
        out_at = now - timedelta(days=730 * (1 - i / LOANS), hours=rng.random() * 24)
        rows.append(_loan(i % tools, rng.randrange(MEMBERS) + 1, out_at, returned=True))
    for tool in range(OUT):
        days_out = 9 if tool < OVERDUE else rng.randint(0, 6)  # 7-day loans: 60 overdue
        rows.append(_loan(tool, rng.randrange(MEMBERS) + 1, now - timedelta(days=days_out)))
    return rows


def _loan(tool: int, member: int, out_at, returned: bool = False) -> dict:
    return {
        "tool_id": tool + 1,
        "member_id": member,
        "kiosk_id": None,
        "out_at": out_at,
        "due_at": out_at + timedelta(days=7),
        "returned_at": out_at + timedelta(days=2) if returned else None,
        "return_kiosk_id": None,
        "return_condition": "ok" if returned else None,
        "return_note": None,
        "event_id": None,
    }


def _add_front_page_work(session) -> None:
    """Add plans, tickets, claims, kiosk statuses and alarms through the hub's services."""
    steward_id, now = 1, utcnow()
    set_password(session, steward_id, PASSWORD)
    for category in CATEGORIES:
        plans.add_plan(
            session,
            name=f"Inspect {category}",
            steward_id=steward_id,
            category=category,
            every_loans=40,
            every_days=90,
            now=now - timedelta(days=60),
        )
    for tool_id in range(OUT + 1, OUT + 21):  # 20 broken tools, each with a repair claimed
        ticket = tickets.open_ticket(
            session, tool_id=tool_id, note="Broken", source="steward", opened_by=1, blocking=True
        )
        claims.log_repair(
            session,
            member_id=2 + tool_id,
            tool_id=tool_id,
            hours="1.00",
            note="Fixed",
            source="dashboard",
            ticket_id=ticket.id,
        )
    for index in range(KIOSKS):
        kiosk = f"kiosk-{index:02d}"
        fleet.record_availability(
            session, kiosk, state="online", since=now, allowlist_version=1, outbox_backlog=index
        )
        if index % 4 == 0:
            fleet.raise_alarm(session, kiosk, 1, fleet.AlarmKind.DOOR_LEFT_OPEN, now)


# --- the run ------------------------------------------------------------------------------


def _run(url: str, requests: int, loan_tool_index: bool) -> dict[str, list[float]]:
    """Fill the database, sign a steward in and time each page ``requests`` times."""
    print(f"{make_url(url).get_backend_name()}:")
    _fill(url, loan_tool_index)
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-app-") as data_dir:
        app = create_app({"DATABASE_URL": url, "DATA_DIR": data_dir, "WTF_CSRF_ENABLED": False})
        app.add_url_rule(TRIVIAL_PATH, "bench_constant", lambda: "ok")
        try:
            client = app.test_client()
            signed = client.post("/signin", data={"number": "1001", "password": PASSWORD})
            assert signed.status_code == 302, signed.get_data(as_text=True)
            return {
                name: _time(client, path, requests, live="live" in path)
                for name, path in PAGES.items()
            }
        finally:
            database.dispose(app)


def _time(client, path: str, requests: int, *, live: bool = False) -> list[float]:
    """Return the milliseconds of ``requests`` GETs of ``path`` (after five warm-up requests).

    With ``live``, ask as an open front page does, with the last ETag: mostly 304s, and a 200
    when the minute turns (the signature includes it), which is timed like any other answer.
    """
    headers, times = {}, []
    for attempt in range(requests + 5):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code in ((200, 304) if live else (200,)), (path, response.status)
        if live:
            headers = {"If-None-Match": response.headers["ETag"]}
        if attempt >= 5:
            times.append(elapsed)
    print(f"  {path}: median {statistics.median(times):.1f} ms")
    return times


def _print_table(results: dict[str, dict[str, list[float]]], requests: int) -> None:
    print(f"\n{requests} requests per page, Flask test client, milliseconds")
    print(f"{'backend':<11}{'page':<34}{'p50':>9}{'p99':>9}{'p99 / trivial p99':>20}")
    for backend, pages in results.items():
        trivial = _p99(pages["constant route (trivial)"])
        for name, times in pages.items():
            p50, p99 = statistics.median(times), _p99(times)
            print(f"{backend:<11}{name:<34}{p50:>9.1f}{p99:>9.1f}{p99 / trivial:>19.1f}x")


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98]


if __name__ == "__main__":
    main()
