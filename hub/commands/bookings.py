"""``commonshed hub resource ...``: add and change bookable machines, close days, pause them;
``commonshed hub member lift-booking-pause``: let a member who missed bookings book again.

Each command calls the same service as the steward pages and the API, as the operator, so it is
checked and audited alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from hub.bookings import attendance, resources
from hub.bookings.models import EVERY_DAY, HolderChoice, Resource
from hub.cli import Hub, member, pass_hub
from hub.errors import InvalidInput
from hub.infra.db import transaction
from hub.members import roster
from hub.members.ranks import OPERATOR

RULE_OPTIONS = (
    ("slot_minutes", "Length of one slot, in minutes."),
    ("max_booking_minutes", "Longest single booking, in minutes."),
    ("max_minutes_per_week", "Minutes one member may book per week."),
    ("max_future_bookings", "Upcoming bookings one member may hold."),
    ("cost_minutes_per_hour", "Timebank minutes charged per hour booked (0: free)."),
    ("checkin_grace_minutes", "Minutes after the start a booking waits for its check-in."),
)
HOLDERS = click.Choice([choice.value for choice in HolderChoice])
HOLDERS_HELP = (
    "What happens to the future bookings it touches: keep (each holder is told it may not go "
    "ahead) or cancel (each holder sees why)."
)


def register(hub_group: click.Group) -> None:
    """Add ``resource`` and its commands, and ``member lift-booking-pause``, to the hub."""
    hub_group.add_command(resource)
    member.add_command(lift_booking_pause)


@click.command("lift-booking-pause")
@click.argument("number")
@click.option("--reason", default=None, help="Why it ends early (kept in the audit log).")
@pass_hub
def lift_booking_pause(hub: Hub, number: str, reason: str | None) -> None:
    """End member NUMBER's booking pause now, so they may book again; audited."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        attendance.lift_booking_pause(session, OPERATOR, found.id, reason=reason)
    click.echo(f"Member {found.number} ({found.name}) may book again.")


@click.group()
def resource() -> None:
    """Add and change bookable machines, close and reopen days, pause and resume them.

    RESOURCE is a resource's id or code. Every change is the operator's, and audited.
    """


def _rule_options(command: Any) -> Any:
    """Add an --option for each integer booking rule (and --hours, --training, --tool, --site)."""
    for name, help_text in reversed(RULE_OPTIONS):
        flag = "--" + name.replace("_", "-")
        command = click.option(flag, name, type=int, default=None, help=help_text)(command)
    command = click.option(
        "--hours",
        multiple=True,
        metavar="DAY=HH:MM-HH:MM[,HH:MM-HH:MM]",
        help="Opening hours of one weekday (mon..sun), repeatable; `sun=` closes Sundays.",
    )(command)
    command = click.option("--training", default=None, help="Training code required.")(command)
    command = click.option("--site", default=None, help="The site it stands at.")(command)
    return click.option("--tool", "tool_code", default=None, help="Library tool it is.")(command)


@resource.command("add")
@click.argument("code")
@click.argument("name")
@_rule_options
@click.option("--timezone", default=None, help="IANA time zone (default Europe/London).")
@pass_hub
def add(hub: Hub, code: str, name: str, hours: tuple[str, ...], **options: Any) -> None:
    """Add a bookable machine CODE called NAME (days --hours does not name are closed)."""
    given = {key: value for key, value in options.items() if value is not None}
    opening = parse_hours_options(hours, {}) if hours else None
    with transaction(hub.migrated_engine()) as session:
        added = resources.register_resource(
            session, OPERATOR, code=code, name=name, opening_hours=opening, **given
        )
        click.echo(f"Resource {added.id} ({added.code}, {added.label}) added.")
        click.echo(describe_hours(added))


@resource.command("edit")
@click.argument("resource_ref", metavar="RESOURCE")
@click.option("--name", default=None, help="New name.")
@_rule_options
@pass_hub
def edit(hub: Hub, resource_ref: str, hours: tuple[str, ...], **options: Any) -> None:
    """Change a machine's name, site, rules or opening hours (days --hours names are replaced;
    `--training ""` drops the training, `--site ""` the site)."""
    given = {key: value for key, value in options.items() if value is not None}
    with transaction(hub.migrated_engine()) as session:
        found = resources.find_resource(session, resource_ref)
        opening = parse_hours_options(hours, found.opening_hours) if hours else None
        changed = resources.update_rules(
            session, OPERATOR, found.id, opening_hours=opening, **given
        )
        click.echo(f"Resource {changed.id} ({changed.code}, {changed.label}) changed.")
        click.echo(describe_hours(changed))


@resource.command("close-day")
@click.argument("resource_ref", metavar="RESOURCE")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--bookings", "holders", type=HOLDERS, required=True, help=HOLDERS_HELP)
@click.option("--reason", default=None, help="Why; the holders see it.")
@pass_hub
def close_day(hub: Hub, resource_ref: str, day: Any, holders: str, reason: str | None) -> None:
    """Close a machine for the whole local DAY (YYYY-MM-DD)."""
    choice = HolderChoice(holders)
    with transaction(hub.migrated_engine()) as session:
        found = resources.find_resource(session, resource_ref)
        closing: date = day.date()
        touched = resources.close_day(
            session, OPERATOR, found.id, closing, holders=choice, reason=reason
        )
    click.echo(f"{found.name} is closed on {closing:%Y-%m-%d}.")
    click.echo(resources.describe_choice(choice, len(touched)))


@resource.command("reopen-day")
@click.argument("resource_ref", metavar="RESOURCE")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@pass_hub
def reopen_day(hub: Hub, resource_ref: str, day: Any) -> None:
    """Open a closed DAY again (bookings cancelled by the closing stay cancelled)."""
    with transaction(hub.migrated_engine()) as session:
        found = resources.find_resource(session, resource_ref)
        removed = resources.reopen_day(session, OPERATOR, found.id, day.date())
    state = "is open again" if removed else "was not closed"
    click.echo(f"{found.name} {state} on {day:%Y-%m-%d}.")


@resource.command("pause")
@click.argument("resource_ref", metavar="RESOURCE")
@click.option("--reason", required=True, help="Why; the holders see it.")
@click.option("--bookings", "holders", type=HOLDERS, required=True, help=HOLDERS_HELP)
@pass_hub
def pause(hub: Hub, resource_ref: str, reason: str, holders: str) -> None:
    """Stop new bookings of a machine until it is resumed."""
    choice = HolderChoice(holders)
    with transaction(hub.migrated_engine()) as session:
        found = resources.find_resource(session, resource_ref)
        touched = resources.pause_resource(session, OPERATOR, found.id, reason, holders=choice)
    click.echo(f"{found.name} is paused. {resources.describe_choice(choice, len(touched))}")


@resource.command("resume")
@click.argument("resource_ref", metavar="RESOURCE")
@click.option("--reason", default=None, help="What was put right (kept in the audit log).")
@pass_hub
def resume(hub: Hub, resource_ref: str, reason: str | None) -> None:
    """Let a paused machine be booked again; holders of kept bookings are told."""
    with transaction(hub.migrated_engine()) as session:
        found = resources.find_resource(session, resource_ref)
        told = resources.resume_resource(session, OPERATOR, found.id, reason=reason)
    click.echo(f"{found.name} can be booked again; {len(told)} holder(s) told.")


def parse_hours_options(
    options: tuple[str, ...], current: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Return ``current`` opening hours with each ``day=HH:MM-HH:MM,...`` option's day replaced."""
    hours = {day: list(current.get(day, [])) for day in EVERY_DAY}
    for option in options:
        day, equals, spans = option.partition("=")
        day = day.strip().lower()
        if not equals or day not in EVERY_DAY:
            raise InvalidInput(
                f"--hours {option!r} must look like mon=09:00-21:00 (days mon..sun).",
                field="opening_hours",
            )
        hours[day] = [span.strip() for span in spans.split(",") if span.strip()]
    return hours


def describe_hours(resource: Resource) -> str:
    """Return a machine's weekly opening hours on one line: "mon 09:00-21:00; ... sun closed"."""
    return "; ".join(
        f"{day} {', '.join(resource.opening_hours.get(day, [])) or 'closed'}" for day in EVERY_DAY
    )
