"""``commonshed hub hold ...`` and ``commonshed hub policy ...``: hold queues and the borrowing
policy from the hub's shell, acting as the operator (audited like every door)."""

from __future__ import annotations

from typing import Any

import click

from hub.cli import Hub, pass_hub
from hub.infra.clock import as_utc
from hub.infra.db import reading, transaction
from hub.loans import holds, policy
from hub.loans.holds import HoldView
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number

NONE = "none"  # spelt on the command line for "no limit"


def register(hub_group: click.Group) -> None:
    """Add ``hold`` and ``policy`` to ``commonshed hub``."""
    hub_group.add_command(hold)
    hub_group.add_command(policy_group)


@click.group()
def hold() -> None:
    """Members' holds on tools: the queues, first come first served."""


@hold.command("list")
@click.option("--tool", "tool_code", default=None, help="Only this tool's queue.")
@click.option("--member", "number", default=None, help="Only this member's holds.")
@pass_hub
def hold_list(hub: Hub, tool_code: str | None, number: str | None) -> None:
    """List live holds, by tool and place in the queue."""
    with reading(hub.migrated_engine()) as session:
        if number is not None:
            member = member_by_number(session, number)
            rows = holds.views_of(session, holds.holds_of_member(session, member.id or 0))
        else:
            rows = holds.queues(session, tool_code)
        for row in rows:
            click.echo(_line(row))


@hold.command("place")
@click.argument("number")
@click.argument("tool_code")
@pass_hub
def hold_place(hub: Hub, number: str, tool_code: str) -> None:
    """Put member NUMBER in the queue for TOOL_CODE."""
    with transaction(hub.migrated_engine()) as session:
        member = member_by_number(session, number)
        placed = holds.place_hold(session, OPERATOR, member_id=member.id or 0, tool_code=tool_code)
        click.echo(_line(holds.views_of(session, [placed])[0]))


@hold.command("cancel")
@click.argument("hold_id", type=int)
@pass_hub
def hold_cancel(hub: Hub, hold_id: int) -> None:
    """Cancel hold HOLD_ID; a tool kept for it goes to the next in line."""
    with transaction(hub.migrated_engine()) as session:
        cancelled = holds.cancel_hold(session, OPERATOR, hold_id)
        click.echo(_line(holds.views_of(session, [cancelled])[0]))


@hold.command("move")
@click.argument("hold_id", type=int)
@click.argument("position", type=int)
@pass_hub
def hold_move(hub: Hub, hold_id: int, position: int) -> None:
    """Move waiting hold HOLD_ID to POSITION among its tool's waiting holds (1: next)."""
    with transaction(hub.migrated_engine()) as session:
        queue = holds.move_hold(session, OPERATOR, hold_id, position)
        for row in holds.views_of(session, queue):
            click.echo(_line(row))


def _line(row: HoldView) -> str:
    hold_row = row.hold
    kept = (
        f" kept until {as_utc(hold_row.expires_at):%Y-%m-%d %H:%M}Z"
        if hold_row.status == holds.HoldStatus.READY and hold_row.expires_at
        else ""
    )
    place = f"#{row.place}" if row.place else "-"
    note = f"  ({hold_row.note})" if hold_row.note else ""
    return (
        f"{hold_row.id:>5}  {row.tool_code:<12} {place:>4}  {row.member_number:>6} "
        f"{row.member_name:<24} {hold_row.status}{kept}{note}"
    )


@click.group("policy")
def policy_group() -> None:
    """The borrowing policy: loans at once, the overdue pause, holds, loan lengths."""


@policy_group.command("show")
@pass_hub
def policy_show(hub: Hub) -> None:
    """Show the policy and the loan lengths set per tool or category."""
    with reading(hub.migrated_engine()) as session:
        held = policy.current_policy(session)
        for name in policy.BOUNDS:
            value = getattr(held, name)
            click.echo(f"{name:<20} {NONE if value is None else value}")
        for rule, code in policy.loan_lengths_with_codes(session):
            which = f"tool {code}" if code else f"category {rule.category}"
            click.echo(f"loan length          {which}: {rule.days} days")


@policy_group.command("set")
@click.option("--max-loans", default=None, help=f"Tools out at once (or '{NONE}').")
@click.option(
    "--overdue-grace-days", default=None, help=f"Days overdue before a pause (or '{NONE}')."
)
@click.option("--max-holds", default=None, help="Live holds per member.")
@click.option("--hold-hours", default=None, help="How long a returned tool is kept.")
@click.option("--tool", "tool_code", default=None, help="With --loan-days: this tool's length.")
@click.option("--category", default=None, help="With --loan-days: this category's length.")
@click.option("--loan-days", default=None, help=f"Loan length in days (or '{NONE}' to remove).")
@pass_hub
def policy_set(
    hub: Hub,
    tool_code: str | None,
    category: str | None,
    loan_days: str | None,
    **settings: str | None,
) -> None:
    """Change the settings given; --loan-days with --tool or --category sets a loan length."""
    changes: dict[str, Any] = {
        name: None if value.lower() == NONE else value
        for name, value in settings.items()
        if value is not None
    }
    if not changes and loan_days is None:
        raise click.UsageError("Name at least one setting to change (see --help).")
    with transaction(hub.migrated_engine()) as session:
        if changes:
            policy.set_policy(session, OPERATOR, **changes)
        if loan_days is not None:
            days = None if loan_days.lower() == NONE else _whole(loan_days)
            policy.set_loan_length(
                session, OPERATOR, days=days, tool_code=tool_code, category=category
            )
    click.echo("Borrowing policy updated.")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a whole number of days.") from None
