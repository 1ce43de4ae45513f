"""``commonshed hub market``: what an admin scripts about the market and its decisions.

Members post, answer, confirm hours and vote through their own pages and the API; the shell
has the stewards' side: categories, hiding a post, closing proposals whose time is up,
executing a passed spend, and exporting the open records. The shell acts as the operator.
"""

from __future__ import annotations

import click

from hub.cli import Hub, pass_hub
from hub.infra.db import reading, transaction
from hub.inventory.registry import tool_by_code
from hub.market import asks, posts, proposals, records, skills
from hub.members.ranks import OPERATOR


@click.group()
def market() -> None:
    """The members' market of offers and requests, and the network's decisions."""


@market.command("category-add")
@click.argument("slug")
@click.argument("name")
@pass_hub
def category_add(hub: Hub, slug: str, name: str) -> None:
    """Add a category of service SLUG called NAME (audited)."""
    with transaction(hub.migrated_engine()) as session:
        added = posts.add_category(session, OPERATOR, slug, name)
    click.echo(f"Category {added.slug} ({added.name}) added.")


@market.command("hide")
@click.argument("post_id", type=int)
@click.option("--reason", required=True, help="Which of the network's rules it breaks.")
@pass_hub
def hide(hub: Hub, post_id: int, reason: str) -> None:
    """Hide post POST_ID from every list (audited; it stays in the records)."""
    with transaction(hub.migrated_engine()) as session:
        posts.hide_post(session, OPERATOR, post_id, reason)
    click.echo(f"Post {post_id} hidden: {reason}")


@market.command("decide")
@pass_hub
def decide(hub: Hub) -> None:
    """Record the outcome of every proposal whose time is up."""
    with transaction(hub.migrated_engine()) as session:
        decided = proposals.decide_closed(session)
        lines = [f"Proposal {p.id} {p.outcome}: {p.outcome_note}" for p in decided]
    click.echo("\n".join(lines) or "No proposal was due.")


@market.command("execute")
@click.argument("proposal_id", type=int)
@pass_hub
def execute(hub: Hub, proposal_id: int) -> None:
    """Pay a passed proposal's hours from the community account (audited)."""
    with transaction(hub.migrated_engine()) as session:
        done = proposals.execute_spend(session, OPERATOR, proposal_id)
    click.echo(f"Proposal {proposal_id} executed: transfer {done.transfer_id}.")


@market.command("export")
@click.option(
    "--table",
    type=click.Choice(["all", *records.TABLE_COLUMNS]),
    default="all",
    help="One table as CSV, or all of them as one JSON document.",
)
@pass_hub
def export(hub: Hub, table: str) -> None:
    """Print the open records (docs/open-records.md): counts and hours, never who."""
    with reading(hub.migrated_engine()) as session:
        text = (
            records.export_json(session) if table == "all" else records.export_csv(session, table)
        )
    click.echo(text, nl=False)


@market.command("ask-fixers")
@click.argument("tool_code")
@click.argument("numbers", nargs=-1)
@pass_hub
def ask_fixers(hub: Hub, tool_code: str, numbers: tuple[str, ...]) -> None:
    """Show who might fix TOOL_CODE; with member NUMBERS, ask them by email (audited)."""
    with transaction(hub.migrated_engine()) as session:
        tool = tool_by_code(session, tool_code)
        if not numbers:
            for s in skills.suggest_fixers(session, tool.id or 0, limit=10):
                click.echo(f"{s.member.number:>6}  {s.member.name:<28} {'; '.join(s.reasons)}")
            return
        mailed = asks.ask_fixers(session, OPERATOR, tool.id or 0, list(numbers))
    click.echo(f"Asked {len(mailed)} of {len(numbers)} by email: {' '.join(mailed) or 'none'}.")


def register(hub_group: click.Group) -> None:
    hub_group.add_command(market)
