"""The market's open records: what the commons exchanged, what the pool holds, what was decided.

Counts and hours only, never who (an exchange is between two members; neither is named here).
The same rows are offered as pages and as CSV/JSON exports that other networks' tools can read:
docs/open-records.md documents the format and its mapping to ValueFlows.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from hub.infra.clock import as_utc
from hub.infra.csv_cells import write_csv
from hub.market.proposals import Proposal, tally
from hub.timebank.ledger import Entry, Transfer, TransferKind, community_account

FORMAT_VERSION = "commonshed-open-records/1"
TABLE_COLUMNS = {
    "exchanges": ("month", "category", "exchanges", "hours"),
    "pool": ("month", "hours_in", "hours_out", "balance"),
    "decisions": (
        "id",
        "title",
        "rule",
        "closes_at",
        "outcome",
        "yes",
        "no",
        "block",
        "cost_hours",
        "executed",
    ),
}


@dataclass(frozen=True)
class ExchangeMonth:
    """What members exchanged in one category in one month (``YYYY-MM``)."""

    month: str
    category: str
    exchanges: int
    hours: Decimal


@dataclass(frozen=True)
class PoolMonth:
    """The community account at the end of a month: what came in, what went out, the balance."""

    month: str
    hours_in: Decimal
    hours_out: Decimal
    balance: Decimal


@dataclass(frozen=True)
class Decision:
    """A proposal as the records show it."""

    id: int
    title: str
    rule: str
    closes_at: str
    outcome: str
    yes: int
    no: int
    block: int
    cost_hours: Decimal | None
    executed: bool


def exchanges_by_month(session: Session) -> list[ExchangeMonth]:
    """Return exchanges between members per category per month, oldest month first."""
    rows = session.exec(
        select(Transfer.created_at, Transfer.category, Entry.amount)
        .join(Entry, col(Entry.transfer_id) == Transfer.id)
        .where(Transfer.kind == TransferKind.EXCHANGE, col(Entry.amount) > 0)
    ).all()
    counted: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for created_at, category, amount in rows:
        counted[(_month(created_at), category or "uncategorised")].append(Decimal(amount))
    return [
        ExchangeMonth(month, category, len(amounts), sum(amounts, Decimal(0)))
        for (month, category), amounts in sorted(counted.items())
    ]


def pool_by_month(session: Session) -> list[PoolMonth]:
    """Return the community account month by month: hours in, hours out, balance after."""
    pool = community_account(session)
    rows = session.exec(
        select(Transfer.created_at, Entry.amount)
        .join(Entry, col(Entry.transfer_id) == Transfer.id)
        .where(Entry.account_id == pool.id)
        .order_by(col(Transfer.created_at))
    ).all()
    months: dict[str, tuple[Decimal, Decimal]] = {}
    for created_at, amount in rows:
        came_in, went_out = months.get(_month(created_at), (Decimal(0), Decimal(0)))
        amount = Decimal(amount)
        months[_month(created_at)] = (
            (came_in + amount, went_out) if amount > 0 else (came_in, went_out - amount)
        )
    balance, result = Decimal(0), []
    for month, (came_in, went_out) in sorted(months.items()):
        balance += came_in - went_out
        result.append(PoolMonth(month, came_in, went_out, balance))
    return result


def decisions(session: Session) -> list[Decision]:
    """Return every proposal with its votes counted and its outcome (``open`` until closed)."""
    result = []
    for proposal in session.exec(select(Proposal).order_by(col(Proposal.id))):
        counted = tally(session, proposal)
        result.append(
            Decision(
                id=proposal.id or 0,
                title=proposal.title,
                rule=proposal.rule,
                closes_at=as_utc(proposal.closes_at).isoformat(),
                outcome=proposal.outcome or "open",
                yes=counted.yes,
                no=counted.no,
                block=counted.block,
                cost_hours=proposal.cost_hours,
                executed=proposal.transfer_id is not None,
            )
        )
    return result


def export_json(session: Session) -> str:
    """Return the open records as one JSON document (docs/open-records.md)."""
    document = {
        "format": FORMAT_VERSION,
        "unit": "hour",
        "exchanges_by_month": [asdict(row) for row in exchanges_by_month(session)],
        "pool_by_month": [asdict(row) for row in pool_by_month(session)],
        "decisions": [asdict(row) for row in decisions(session)],
    }
    return json.dumps(document, default=str, indent=2, sort_keys=True)


def export_csv(session: Session, table: str) -> str:
    """Return one table of the open records as CSV: ``exchanges``, ``pool`` or ``decisions``."""
    tables = {
        "exchanges": exchanges_by_month,
        "pool": pool_by_month,
        "decisions": decisions,
    }
    if table not in tables:
        raise ValueError(f"unknown table {table!r}; the tables are {', '.join(tables)}")
    rows = [asdict(row) for row in tables[table](session)]
    header = list(TABLE_COLUMNS[table])
    out = io.StringIO()
    write_csv(out, header, ([row[name] for name in header] for row in rows))
    return out.getvalue()


def _month(at: datetime) -> str:
    return f"{as_utc(at):%Y-%m}"
