"""``commonshed hub plan|service|ticket|claim|transfer|credit-limit|fixer ...``: upkeep; and
``commonshed hub loan return``: a tool handed back at the desk.

Preventive plans, services, tickets, repair claims and the ledger's corrections, from the hub's
shell. Each acts as the operator through the same services as the pages and the API, so each is
checked and audited alike.
"""

from __future__ import annotations

from decimal import Decimal

import click

from hub.cli import Hub, loan, pass_hub
from hub.infra.db import reading, transaction
from hub.inventory import registry
from hub.maintenance import returns
from hub.maintenance import stewarding as maintenance
from hub.members import roster
from hub.members.ranks import OPERATOR
from hub.queries import maintenance as maintenance_rows
from hub.timebank import stewarding as timebank

GROUPS: list[click.Group] = []


def register(hub_group: click.Group) -> None:
    """Add the upkeep groups to ``commonshed hub``, and ``loan return``."""
    for group in GROUPS:
        hub_group.add_command(group)
    loan.add_command(loan_return)


@click.command("return")
@click.argument("tool_code")
@click.option(
    "--condition", type=click.Choice(["ok", "needs_repair"]), required=True, help="As found."
)
@click.option("--note", default=None, help="What is wrong (needed for needs_repair).")
@pass_hub
def loan_return(hub: Hub, tool_code: str, condition: str, note: str | None) -> None:
    """Record tool TOOL_CODE handed back at the desk; needs_repair opens a blocking ticket."""
    with transaction(hub.migrated_engine()) as session:
        tool = registry.tool_by_code(session, tool_code)
        outcome = returns.return_with_condition(
            session, OPERATOR, tool_id=tool.id, condition=condition, note=note
        )
        ticket = f"; ticket {outcome.ticket.id} opened" if outcome.ticket else ""
        loan_id = outcome.loan.id if outcome.loan else "?"
        click.echo(f"{tool.code} is back: loan {loan_id} closed{ticket}.")


def _group(name: str, help_text: str) -> click.Group:
    group = click.Group(name, help=help_text)
    GROUPS.append(group)
    return group


plan = _group("plan", "Preventive maintenance plans: due by loans, days or hours of use.")
service = _group("service", "Services done under a plan.")
ticket = _group("ticket", "Maintenance tickets.")
claim = _group("claim", "Repair credit claims.")
transfer = _group("transfer", "Timebank transfers.")
credit_limit = _group("credit-limit", "How many hours a member may owe.")
fixer = _group("fixer", "Trusted fixers, whose small repair claims are approved at once.")


# --- plans and services -------------------------------------------------------------------


@plan.command("add")
@click.argument("name")
@click.option("--tool", "tool_code", default=None, help="The one tool it covers (its code).")
@click.option("--category", default=None, help="Or every tool of this category.")
@click.option("--every-loans", type=int, default=None, help="Due after this many loans.")
@click.option("--every-days", type=int, default=None, help="Due after this many days.")
@click.option("--every-use-hours", type=int, default=None, help="Due after hours on loan.")
@click.option("--blocking", is_flag=True, help="Stop lending the tool while it is overdue.")
@pass_hub
def plan_add(
    hub: Hub,
    name: str,
    tool_code: str | None,
    category: str | None,
    every_loans: int | None,
    every_days: int | None,
    every_use_hours: int | None,
    blocking: bool,
) -> None:
    """Add a plan for one tool or one category, due by whichever interval comes first."""
    with transaction(hub.migrated_engine()) as session:
        tool_id = registry.tool_by_code(session, tool_code).id if tool_code else None
        added = maintenance.add_plan(
            session,
            OPERATOR,
            name=name,
            tool_id=tool_id,
            category=category,
            every_loans=every_loans,
            every_days=every_days,
            every_use_hours=every_use_hours,
            blocks_when_overdue=blocking,
        )
    click.echo(f"Plan {added.id} added: {added.name}")


@plan.command("list")
@pass_hub
def plan_list(hub: Hub) -> None:
    """List every plan: id, name, what it covers, its intervals."""
    with reading(hub.migrated_engine()) as session:
        rows = maintenance_rows.plan_rows(session)
    for row in rows:
        p = row.plan
        every = ", ".join(
            f"{value} {unit}"
            for value, unit in (
                (p.every_loans, "loans"),
                (p.every_days, "days"),
                (p.every_use_hours, "hours of use"),
            )
            if value
        )
        blocking = "  blocking" if p.blocks_when_overdue else ""
        click.echo(f"{p.id:>4}  {p.name:<30} {row.covers:<24} every {every}{blocking}")


@service.command("log")
@click.argument("plan_id", type=int)
@click.argument("tool_code")
@click.option("--note", default=None, help="What was done.")
@pass_hub
def service_log(hub: Hub, plan_id: int, tool_code: str, note: str | None) -> None:
    """Record that a tool was serviced under a plan: its counters start again."""
    with transaction(hub.migrated_engine()) as session:
        tool = registry.tool_by_code(session, tool_code)
        done = maintenance.log_service(
            session, OPERATOR, plan_id=plan_id, tool_id=tool.id, note=note
        )
    click.echo(f"Service {done.id} of {tool.code} recorded under plan {plan_id}.")


@ticket.command("resolve")
@click.argument("ticket_id", type=int)
@click.option("--note", default=None, help="What was done.")
@pass_hub
def ticket_resolve(hub: Hub, ticket_id: int, note: str | None) -> None:
    """Resolve a ticket as fixed; the tool returns to service once nothing blocks it."""
    with transaction(hub.migrated_engine()) as session:
        maintenance.resolve_ticket(session, OPERATOR, ticket_id, note)
    click.echo(f"Ticket {ticket_id} resolved.")


# --- claims -------------------------------------------------------------------------------


@claim.command("approve")
@click.argument("claim_id", type=int)
@click.option(
    "--return-to-service/--keep-out-of-service",
    default=None,
    help="Required: also resolve the repaired ticket (the tool returns to service), or not.",
)
@click.option("--hours", default=None, help="Hours to credit, if not those claimed.")
@click.option("--reason", default=None, help="Required when the hours differ.")
@pass_hub
def claim_approve(
    hub: Hub, claim_id: int, return_to_service: bool | None, hours: str | None, reason: str | None
) -> None:
    """Approve a repair claim: the fixer is credited from the community pool."""
    if return_to_service is None:
        raise click.UsageError("Say --return-to-service or --keep-out-of-service.")
    with transaction(hub.migrated_engine()) as session:
        decided = timebank.approve_claim(
            session,
            OPERATOR,
            claim_id,
            return_to_service=return_to_service,
            hours=hours,
            reason=reason,
        )
    where = "returned to service" if return_to_service else "left as it is"
    click.echo(f"Claim {claim_id} approved: {decided.approved_hours} h credited; tool {where}.")


@claim.command("decline")
@click.argument("claim_id", type=int)
@click.option("--reason", required=True, help="Why the claim is declined.")
@pass_hub
def claim_decline(hub: Hub, claim_id: int, reason: str) -> None:
    """Decline a repair claim; nothing is credited."""
    with transaction(hub.migrated_engine()) as session:
        timebank.decline_claim(session, OPERATOR, claim_id, reason)
    click.echo(f"Claim {claim_id} declined.")


# --- the ledger ---------------------------------------------------------------------------


@transfer.command("reverse")
@click.argument("transfer_id", type=int)
@click.option("--reason", required=True, help="Why; shown in the ledger.")
@pass_hub
def transfer_reverse(hub: Hub, transfer_id: int, reason: str) -> None:
    """Correct a transfer by posting its mirror image (once only)."""
    with transaction(hub.migrated_engine()) as session:
        correction = timebank.reverse_transfer(session, OPERATOR, transfer_id, reason)
    click.echo(f"Transfer {transfer_id} reversed by transfer {correction.id}.")


@credit_limit.command("set")
@click.argument("number")
@click.argument("may_owe")
@pass_hub
def credit_limit_set(hub: Hub, number: str, may_owe: str) -> None:
    """Let member NUMBER owe up to MAY_OWE hours (0: no debt); "none" for no limit."""
    owed = None if may_owe.strip().lower() == "none" else may_owe
    with transaction(hub.migrated_engine()) as session:
        member = roster.member_by_number(session, number)
        timebank.set_credit_limit(session, OPERATOR, member.id, owed)
    said = "no limit" if owed is None else f"may owe up to {Decimal(owed):.2f} h"
    click.echo(f"Member {number}: {said}.")


@fixer.command("mark")
@click.argument("number")
@click.option("--up-to", default="2.00", show_default=True, help="Hours approved at once.")
@pass_hub
def fixer_mark(hub: Hub, number: str, up_to: str) -> None:
    """Trust member NUMBER's repair claims up to --up-to hours each."""
    with transaction(hub.migrated_engine()) as session:
        member = roster.member_by_number(session, number)
        trusted = timebank.mark_trusted_fixer(session, OPERATOR, member.id, up_to)
    click.echo(f"Member {number} is a trusted fixer up to {trusted.auto_approve_up_to} h.")


@fixer.command("unmark")
@click.argument("number")
@pass_hub
def fixer_unmark(hub: Hub, number: str) -> None:
    """Stop approving member NUMBER's claims at once."""
    with transaction(hub.migrated_engine()) as session:
        member = roster.member_by_number(session, number)
        timebank.unmark_trusted_fixer(session, OPERATOR, member.id)
    click.echo(f"Member {number} is no longer a trusted fixer.")
