"""``commonshed hub reports``: the reports page's figures for the whole network or one site,
as text or as JSON (the API's shape), read from :func:`hub.queries.reports.report`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import click

from hub.cli import Hub, pass_hub
from hub.infra.db import reading
from hub.queries.reports import Report, SiteFigures, report

COLUMNS = (
    ("kiosks", "kiosks"),
    ("tools", "tools"),
    ("loans_this_month", "loans/month"),
    ("returned_elsewhere", "back elsewhere"),
    ("returned_here_from_elsewhere", "back from elsewhere"),
    ("open_fault_tickets", "open faults"),
    ("overdue_loans", "overdue"),
)


def register(hub_group: click.Group) -> None:
    """Add ``reports`` to the hub."""
    hub_group.add_command(reports)


@click.command()
@click.option("--site", default=None, help="One site's figures (default: the whole network).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as GET /api/v1/reports does.")
@pass_hub
def reports(hub: Hub, site: str | None, as_json: bool) -> None:
    """Print the reports: loans per week, repairs and hours per month, the most borrowed and
    broken tools, door alarms by kiosk, and the sites side by side."""
    with reading(hub.migrated_engine()) as session:
        found = report(session, site)
    click.echo(json.dumps(as_document(found), indent=2) if as_json else describe(found))


def as_document(found: Report) -> dict[str, Any]:
    """Return the report as the API's JSON has it (dates ISO, hours as "1.50")."""
    pairs = (
        ("loans_per_week", "start", "count"),
        ("repairs_per_month", "start", "count"),
        ("hours_credited_per_month", "start", "hours"),
        ("most_borrowed", "tool_code", "count"),
        ("most_broken", "tool_code", "count"),
        ("alarms_per_kiosk", "kiosk_id", "count"),
    )
    document: dict[str, Any] = {"site": found.site, "sites": found.sites}
    for name, key, value in pairs:
        document[name] = [{key: _plain(k), value: _plain(v)} for k, v in getattr(found, name)]
    document["side_by_side"] = [asdict(row) for row in found.side_by_side]
    return document


def describe(found: Report) -> str:
    """Return the report as text, one figure after another."""
    lines = [f"Reports: {found.site or 'whole network'} (sites: {', '.join(found.sites)})", ""]
    lines += _table(found.side_by_side)
    lines += _series("Loans per week (week starting)", found.loans_per_week)
    lines += _series("Repairs per month", found.repairs_per_month)
    lines += _series("Repair hours credited per month", found.hours_credited_per_month)
    lines += _series("Most borrowed tools (loans)", found.most_borrowed)
    lines += _series("Most broken tools (fault tickets)", found.most_broken)
    lines += _series("Door alarms by kiosk", found.alarms_per_kiosk)
    return "\n".join(lines).rstrip()


def _table(rows: list[SiteFigures]) -> list[str]:
    head = f"{'site':<16}" + "".join(f"{label:>{len(label) + 2}}" for _, label in COLUMNS)
    body = [
        f"{row.site:<16}"
        + "".join(f"{getattr(row, name):>{len(label) + 2}}" for name, label in COLUMNS)
        for row in rows
    ]
    return [head, *body, ""]


def _series(title: str, pairs: list[tuple[Any, Any]]) -> list[str]:
    lines = [f"{_plain(key):<16}{_plain(value):>8}" for key, value in pairs] or ["none yet"]
    return [f"{title}:", *("  " + line for line in lines), ""]


def _plain(value: Any) -> Any:
    """Return a date as ISO text and hours as "1.50"; anything else as it is."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
