"""The open records: exchanges by category and month, the pool, decisions; never who."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

from click.testing import CliRunner

from hub.cli import hub as hub_cli
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.market import exchanges, posts, proposals, records
from hub.members.roster import get_member
from hub.timebank import ledger


def trade(session, network, hours, category="repairs"):
    post = posts.add_post(
        session,
        get_member(session, network.ada),
        kind="offer",
        category=category,
        title="Help",
        text="Help",
    )
    posts.answer_post(session, get_member(session, network.bea), post.id, "yes")
    exchanges.give_hours(
        session, get_member(session, network.bea), post.id, giver_number="1001", hours=hours
    )


def test_exchanges_and_the_pool_are_counted_by_month_without_names(network):
    month = f"{utcnow():%Y-%m}"
    with transaction(network.engine) as session:
        trade(session, network, "1.5")
        trade(session, network, "2")
        trade(session, network, "1", category="lessons")
        ledger.charge_to_pool(
            session, key="fee", member_id=network.cy, hours="3", description="booking fee"
        )
    with reading(network.engine) as session:
        assert records.exchanges_by_month(session) == [
            records.ExchangeMonth(month, "lessons", 1, Decimal("1.00")),
            records.ExchangeMonth(month, "repairs", 2, Decimal("3.50")),
        ]
        assert records.pool_by_month(session) == [
            records.PoolMonth(month, Decimal("3.00"), Decimal("0"), Decimal("3.00"))
        ]
        document = json.loads(records.export_json(session))
        table = list(csv.DictReader(io.StringIO(records.export_csv(session, "exchanges"))))
    assert document["format"] == records.FORMAT_VERSION
    assert "Ada" not in json.dumps(document) and "1001" not in json.dumps(document)
    assert table[1] == {"month": month, "category": "repairs", "exchanges": "2", "hours": "3.50"}


def test_the_cli_exports_and_decides(network, database_url, tmp_path):
    with transaction(network.engine) as session:
        proposal = proposals.propose(
            session,
            get_member(session, network.ada),
            title="Rule",
            text="Open on Sundays",
            closes_at=utcnow() + timedelta(hours=2),
        )
        proposal.closes_at = utcnow() - timedelta(seconds=1)  # its time is up
        session.add(proposal)
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path), "--database-url", database_url]
    decided = runner.invoke(hub_cli, [*base, "market", "decide"])
    assert decided.exit_code == 0, decided.output
    assert "passed: no block" in decided.output
    exported = runner.invoke(hub_cli, [*base, "market", "export", "--table", "decisions"])
    assert exported.exit_code == 0 and ",Rule,consent," in exported.output
    hidden = runner.invoke(hub_cli, [*base, "market", "hide", "99", "--reason", "spam"])
    assert hidden.exit_code == 1 and "Post 99 does not exist. [post_id]" in hidden.output
