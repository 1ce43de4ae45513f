"""``commonshed hub ...``: administer the hub without a browser."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click
from sqlalchemy import Engine
from sqlmodel import select

from hub.bookings import tablets
from hub.bulk import csv_io, demo
from hub.errors import DomainError
from hub.infra import migrate, settings
from hub.infra.db import make_engine, reading, transaction
from hub.inventory import registry
from hub.loans import corrections
from hub.members import cards, roster, sessions, standing, tokens, trainings
from hub.members import credentials as members_credentials
from hub.members.ranks import OPERATOR
from hub.queries import loans, members, tools
from hub.worker.supervisor import MAX_FAILURES


class HubGroup(click.Group):
    """A command group that turns domain refusals into a clear message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            field = f" [{error.field}]" if error.field else ""
            raise click.ClickException(f"{error.message}{field}") from None


class Hub:
    """What every command needs: where the data lives and an engine on demand."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir, self.database_url = data_dir, database_url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._engine = make_engine(self.database_url)
        return self._engine

    def close(self) -> None:
        """Close the engine's pooled connections (a PostgreSQL server counts them)."""
        if self._engine is not None:
            self._engine.dispose()

    def migrated_engine(self) -> Engine:
        """Return the engine, refusing to work on a database behind the code's migrations."""
        if not migrate.is_up_to_date(self.engine):
            raise click.ClickException(
                f"The database at {self.database_url} is not up to date: "
                "run `commonshed hub migrate` first."
            )
        return self.engine


pass_hub = click.make_pass_decorator(Hub)


@click.group(cls=HubGroup)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the hub keeps its files (default $COMMONSHED_DATA_DIR or ./data).",
)
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default $COMMONSHED_DATABASE_URL or SQLite in the data dir).",
)
@click.pass_context
def hub(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """Administer the hub: members, cards, tools, lockers, kiosks, imports and exports."""
    data = settings.data_dir(data_dir)
    ctx.obj = Hub(data, settings.database_url(data, database_url))
    ctx.call_on_close(ctx.obj.close)


@hub.command()
@pass_hub
def init(hub: Hub) -> None:
    """Create the data directory and bring the database to the newest schema."""
    migrate.upgrade(hub.engine)
    click.echo(f"Data directory {hub.data_dir} ready; database at {hub.database_url} migrated.")


@hub.command("migrate")
@pass_hub
def migrate_command(hub: Hub) -> None:
    """Apply pending schema migrations (Alembic)."""
    before = migrate.current_revisions(hub.engine)
    migrate.upgrade(hub.engine)
    after = migrate.current_revisions(hub.engine)
    click.echo(
        f"Schema at {', '.join(sorted(after))}" + (" (no change)." if before == after else ".")
    )


@hub.command("demo-data")
@click.option("--force", is_flag=True, help="Seed even if the database already has members.")
@click.option(
    "--sites",
    type=click.IntRange(1, len(demo.SITES)),
    default=1,
    show_default=True,
    help=f"Sites of the demo network ({', '.join(demo.SITES)}); each after the first gets a "
    "kiosk with a few tools, if it has none yet (also in a seeded database).",
)
@pass_hub
def demo_data(hub: Hub, force: bool, sites: int) -> None:
    """Seed a small, believable tool library (two kiosks, members, tools, history)."""
    engine = hub.migrated_engine()
    with transaction(engine) as session:
        seeding = demo.is_empty(session) or force
        cards = demo.seed(session) if seeding else []
        added = demo.add_sites(session, sites)
    if seeding:
        click.echo(
            f"Demo library seeded. Stewards 1001-1003 sign in with {demo.DEMO_STEWARD_PASSWORD!r};"
            f" every member's tablet PIN is {demo.DEMO_PIN}."
        )
        click.echo("Cards to try:")
        for card in cards:
            click.echo(f"  {card.uid}  member {card.member_number}  {card.name} ({card.roles})")
    elif not added:
        click.echo("The database already has members; leaving it as it is (use --force).")
    for kiosk_id in added:
        click.echo(f"Demo kiosk {kiosk_id} added, with lockers and tools.")


# --- members ------------------------------------------------------------------------------


@hub.group()
def member() -> None:
    """Add, list, suspend and reinstate members; change their roles.

    The CLI acts as the operator (whoever holds the hub's database): above every role, but the
    last active admin still cannot be suspended or demoted, and every change is audited.
    """


@member.command("add")
@click.option("--name", required=True)
@click.option("--number", default=None, help="Member number (allotted when omitted).")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option(
    "--roles",
    default="member",
    show_default=True,
    help="Space- or comma-separated: member, volunteer, steward, admin.",
)
@pass_hub
def member_add(hub: Hub, **fields: Any) -> None:
    """Enrol a member."""
    with transaction(hub.migrated_engine()) as session:
        added = standing.enrol_member(session, OPERATOR, **fields)
    click.echo(f"Member {added.number} {added.name} ({added.roles}) added.")


@member.command("list")
@click.option("--search", default=None, help="Part of a name or number.")
@pass_hub
def member_list(hub: Hub, search: str | None) -> None:
    """List members with their status, roles and live cards."""
    with reading(hub.migrated_engine()) as session:
        for m in members.find_members(session, search):
            live = [c.uid for c in roster.cards_of(session, m.id) if c.revoked_at is None]
            click.echo(f"{m.number:>6}  {m.name:<28} {m.status:<9} {m.roles:<22} {' '.join(live)}")


@member.command("suspend")
@click.argument("number")
@click.option("--reason", required=True, help="Said to the member at the kiosk.")
@pass_hub
def member_suspend(hub: Hub, number: str, reason: str) -> None:
    """Suspend a member; every kiosk refuses their cards from the next allow-list."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        standing.suspend_member(session, OPERATOR, found.id, reason)
    click.echo(f"Member {number} suspended: {reason}")


@member.command("reinstate")
@click.argument("number")
@click.option("--reason", default=None, help="Kept in the audit log.")
@pass_hub
def member_reinstate(hub: Hub, number: str, reason: str | None) -> None:
    """Make a suspended member active again."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        standing.reinstate_member(session, OPERATOR, found.id, reason)
    click.echo(f"Member {number} is active again.")


@member.command("roles")
@click.argument("number")
@click.argument("roles")
@pass_hub
def member_roles(hub: Hub, number: str, roles: str) -> None:
    """Give member NUMBER exactly ROLES (space- or comma-separated; member is always held)."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        changed = standing.set_roles(session, OPERATOR, found.id, roles)
    click.echo(f"Member {number} now holds: {changed.roles}.")


@member.command("reset-pin")
@click.argument("number")
@pass_hub
def member_reset_pin(hub: Hub, number: str) -> None:
    """Forget member NUMBER's tablet PIN (audited); they set a new one after a card tap."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        members_credentials.reset_pin(session, OPERATOR, found.id)
    click.echo(f"The PIN of member {number} is reset: they set a new one after a card tap.")


@hub.group()
def tablet() -> None:
    """Booking tablets (enrolled by a steward at /tablet/enrol on the tablet itself)."""


@tablet.command("list")
@pass_hub
def tablet_list(hub: Hub) -> None:
    """List enrolled tablets, revoked ones too."""
    with reading(hub.migrated_engine()) as session:
        for found in tablets.list_tablets(session):
            state = f"revoked {found.revoked_at:%Y-%m-%d}" if found.revoked_at else "live"
            seen = f"{found.last_seen_at:%Y-%m-%d %H:%M}" if found.last_seen_at else "never"
            click.echo(f"{found.id:>4}  {found.name:<30} {state:<18} last card {seen}")


@tablet.command("revoke")
@click.argument("tablet_id", type=int)
@pass_hub
def tablet_revoke(hub: Hub, tablet_id: int) -> None:
    """Revoke tablet TABLET_ID: its card reader no longer identifies anyone (audited)."""
    with transaction(hub.migrated_engine()) as session:
        tablets.revoke_tablet(session, tablet_id, by_member_id=None)
    click.echo(f"Tablet {tablet_id} is revoked.")


# --- cards and trainings ------------------------------------------------------------------


@hub.group()
def card() -> None:
    """Assign and revoke RFID cards."""


@card.command("assign")
@click.argument("number")
@click.argument("uid")
@click.option("--label", default=None, help="e.g. 'key fob' or 'spare card'.")
@pass_hub
def card_assign(hub: Hub, number: str, uid: str, label: str | None) -> None:
    """Give member NUMBER the card UID (hex, 4 or 7 bytes, separators allowed)."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        given = cards.assign_card(session, OPERATOR, found.id, uid, label=label)
    click.echo(f"Card {given.uid} assigned to member {number}.")


@card.command("revoke")
@click.argument("uid")
@click.option("--reason", default=None, help="Kept in the audit log.")
@pass_hub
def card_revoke(hub: Hub, uid: str, reason: str | None) -> None:
    """Revoke a card (stolen, handed back; `card lost` for a lost one); audited."""
    with transaction(hub.migrated_engine()) as session:
        held = roster.card_by_uid(session, uid)
        revoked = cards.revoke_card(session, OPERATOR, held.member_id, uid, reason=reason)
    click.echo(f"Card {revoked.uid} revoked.")


@hub.group()
def training() -> None:
    """Define trainings and record who has done them."""


@training.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--valid-days", type=int, default=None, help="Days until it must be renewed.")
@pass_hub
def training_add(hub: Hub, code: str, name: str, valid_days: int | None) -> None:
    """Define training CODE called NAME."""
    with transaction(hub.migrated_engine()) as session:
        roster.add_training(session, code=code, name=name, valid_days=valid_days)
    click.echo(f"Training {code} added.")


@training.command("grant")
@click.argument("number")
@click.argument("code")
@click.option(
    "--expires-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Valid to the end of this day (YYYY-MM-DD); else for the training's own length.",
)
@pass_hub
def training_grant(hub: Hub, number: str, code: str, expires_on: datetime | None) -> None:
    """Record that member NUMBER passed training CODE; audited."""
    day = expires_on.date() if expires_on else None
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        held = trainings.grant_training(session, OPERATOR, found.id, code, expires_on=day)
    until = f" until {held.expires_at:%Y-%m-%d}" if held.expires_at else ""
    click.echo(f"Member {number} holds {code}{until}.")


# --- kiosks, lockers, tools ---------------------------------------------------------------


@hub.group()
def kiosk() -> None:
    """Register, rename, provision, revoke and list kiosks (hub.commands.inventory)."""


@kiosk.command("list")
@pass_hub
def kiosk_list(hub: Hub) -> None:
    """List kiosks and their lockers."""
    with reading(hub.migrated_engine()) as session:
        for k in registry.list_kiosks(session):
            count = len(registry.lockers_of(session, k.id))
            click.echo(f"{k.id:<16} {k.site:<10} {count:>3} lockers  {k.name}")


@hub.group()
def locker() -> None:
    """Add and remove the lockers of kiosks (hub.commands.inventory)."""


@hub.group()
def tool() -> None:
    """Add, edit, move, retire and list tools (hub.commands.inventory)."""


@tool.command("list")
@click.option("--status", type=click.Choice([s.value for s in registry.ToolStatus]), default=None)
@pass_hub
def tool_list(hub: Hub, status: str | None) -> None:
    """List tools with their home locker and status."""
    with reading(hub.migrated_engine()) as session:
        for row in tools.tool_board(session):
            if status and row.tool.status != status:
                continue
            where = f"{row.kiosk_id}/{row.slot}" if row.kiosk_id else "-"
            click.echo(f"{row.tool.code:<12} {row.tool.name:<28} {where:<10} {row.tool.status}")


@tool.command("history")
@click.argument("code")
@pass_hub
def tool_history(hub: Hub, code: str) -> None:
    """Show the loans of tool CODE (open records)."""
    with reading(hub.migrated_engine()) as session:
        found = registry.tool_by_code(session, code)
        for row in loans.loan_history(session, found.id):
            back = f"{row.loan.returned_at:%Y-%m-%d}" if row.loan.returned_at else "out"
            click.echo(f"{row.loan.out_at:%Y-%m-%d}  member {row.member_number:<6} back {back}")


# --- loans --------------------------------------------------------------------------------


@hub.group()
def loan() -> None:
    """Open loans and conflicts; a steward's corrections, each with a reason (audited)."""


@loan.command("list")
@click.option("--conflicts", is_flag=True, help="Only the conflicts waiting for a steward.")
@pass_hub
def loan_list(hub: Hub, conflicts: bool) -> None:
    """List open loans (id, tool, member, out, due), or only the conflicts."""
    with reading(hub.migrated_engine()) as session:
        if conflicts:
            for row in loans.conflicts(session):
                click.echo(f"{row.loan.id:<6} {row.summary}")
            return
        for out in loans.open_loans(session):
            flag = "  CONFLICT" if out.loan.in_conflict else ""
            click.echo(
                f"{out.loan.id:<6} {out.tool_code:<12} member {out.member_number:<6} "
                f"out {out.loan.out_at:%Y-%m-%d} due {out.loan.due_at:%Y-%m-%d}{flag}"
            )


@loan.command("end")
@click.argument("loan_id", type=click.IntRange(min=1))
@click.option("--steward", "steward_number", required=True, help="Your member number.")
@click.option("--reason", required=True, help="Why it ends without a return.")
@pass_hub
def loan_end(hub: Hub, loan_id: int, steward_number: str, reason: str) -> None:
    """End open loan LOAN_ID that no return will close (lost, settled in person)."""
    with transaction(hub.migrated_engine()) as session:
        steward_id = roster.member_by_number(session, steward_number).id
        corrections.end_loan(session, loan_id=loan_id, steward_id=steward_id, reason=reason)
    click.echo(f"Loan {loan_id} ended by correction.")


@loan.command("resolve")
@click.argument("loan_id", type=click.IntRange(min=1))
@click.option(
    "--keep",
    type=click.Choice(["new", "earlier"]),
    required=True,
    help="new: the conflicting loan stands (the earlier ends); earlier: it never happened.",
)
@click.option("--steward", "steward_number", required=True, help="Your member number.")
@click.option("--reason", required=True, help="What you found at the locker.")
@pass_hub
def loan_resolve(hub: Hub, loan_id: int, keep: str, steward_number: str, reason: str) -> None:
    """Resolve the conflict of loan LOAN_ID after checking the locker and the people."""
    with transaction(hub.migrated_engine()) as session:
        steward_id = roster.member_by_number(session, steward_number).id
        corrections.resolve_conflict(
            session,
            loan_id=loan_id,
            steward_id=steward_id,
            keep="new" if keep == "new" else "earlier",
            reason=reason,
        )
    click.echo(f"Conflict of loan {loan_id} resolved: the {keep} loan stands.")


# --- CSV ----------------------------------------------------------------------------------

IMPORTERS = {"members": csv_io.import_members, "tools": csv_io.import_tools}
EXPORTERS = {"members": csv_io.export_members, "tools": csv_io.export_tools}


@hub.command("import")
@click.argument("kind", type=click.Choice(sorted(IMPORTERS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@pass_hub
def import_command(hub: Hub, kind: str, file: Path, dry_run: bool) -> None:
    """Import KIND (members or tools) from a CSV FILE: every row, or none if any is refused."""
    total = max(_count_rows(file), 0)
    text = file.read_text(encoding="utf-8-sig")
    try:
        with transaction(hub.migrated_engine()) as session:
            with click.progressbar(length=total, label=f"Checking {kind}", file=sys.stderr) as bar:
                report = csv_io.import_csv(
                    session, OPERATOR, kind, text, dry_run=dry_run, progress=bar.update
                )
            if not report.ok:
                raise _NothingWritten(report)  # roll back, however far the import got
    except _NothingWritten as refused:
        report = refused.report
    _print_report(report)


class _NothingWritten(Exception):
    def __init__(self, report: csv_io.ImportReport) -> None:
        self.report = report


def _count_rows(file: Path) -> int:
    """Count data lines for the progress bar (the header is not a row)."""
    with file.open(encoding="utf-8-sig") as stream:
        return sum(1 for _ in stream) - 1


def _print_report(report: csv_io.ImportReport) -> None:
    """Tell what was imported or refused; exit 1 if anything was refused."""
    for refusal in report.refusals[:200]:
        click.echo(f"refused: {refusal}", err=True)
    if len(report.refusals) > 200:
        click.echo(f"... and {len(report.refusals) - 200} more refusals", err=True)
    if report.refusals:
        raise click.ClickException(
            f"{len(report.refusals)} of {report.rows} {report.kind} rows refused; "
            "nothing was imported. Fix the rows above and run again."
        )
    verb = "would be imported (dry run)" if report.dry_run else "imported"
    click.echo(f"{report.rows} {report.kind} {verb}.")


@hub.command("export")
@click.argument("kind", type=click.Choice(sorted(EXPORTERS)))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@pass_hub
def export_command(hub: Hub, kind: str, output: TextIO) -> None:
    """Export KIND (members or tools) as CSV, in the form `import` reads back."""
    with reading(hub.migrated_engine()) as session:
        count = EXPORTERS[kind](session, output)
    click.echo(f"{count} {kind} exported.", err=True)


# --- steward accounts ---------------------------------------------------------------------


@hub.group()
def steward() -> None:
    """Passwords, sessions and API tokens for stewards and admins (all audited)."""


@steward.command("set-password")
@click.argument("number")
@click.password_option(help="At least 10 characters (asked for when omitted).")
@pass_hub
def steward_set_password(hub: Hub, number: str, password: str) -> None:
    """Let steward NUMBER sign in to the dashboard with PASSWORD (stored as an argon2 hash)."""
    with transaction(hub.migrated_engine()) as session:
        members_credentials.set_password(
            session, OPERATOR, roster.member_by_number(session, number).id, password
        )
    click.echo(f"Steward {number} can sign in now; their other sessions have ended.")


@steward.command("sign-out-everywhere")
@click.argument("number")
@pass_hub
def steward_sign_out_everywhere(hub: Hub, number: str) -> None:
    """End every dashboard session of member NUMBER (a lost laptop, a shared computer)."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        ended = sessions.sign_out_everywhere(session, OPERATOR, found.id)
    click.echo(f"{ended} session(s) of member {number} ended.")


@steward.command("issue-token")
@click.argument("number")
@click.option("--name", required=True, help="What the token is for, e.g. 'weekly report'.")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in tokens.TokenScope]),
    default=tokens.TokenScope.STEWARD.value,
    show_default=True,
    help="steward: all its holder may do; read: GET only; member: no steward data.",
)
@click.option(
    "--days", type=int, default=tokens.DEFAULT_DAYS, show_default=True, help="Until it expires."
)
@pass_hub
def steward_issue_token(hub: Hub, number: str, name: str, scope: str, days: int) -> None:
    """Create an API token for member NUMBER's scripts (shown once)."""
    with transaction(hub.migrated_engine()) as session:
        found = roster.member_by_number(session, number)
        token = tokens.issue_token(session, OPERATOR, found.id, name, scope=scope, days=days)
    click.echo(token)


@steward.command("tokens")
@click.argument("number", required=False)
@pass_hub
def steward_tokens(hub: Hub, number: str | None) -> None:
    """List API tokens (member NUMBER's, or everyone's): id, holder, scope, expiry, last use."""
    with reading(hub.migrated_engine()) as session:
        holder = roster.member_by_number(session, number).id if number else None
        numbers = dict(session.exec(select(roster.Member.id, roster.Member.number)).all())
        for row in tokens.list_tokens(session, holder):
            click.echo(_token_line(row, numbers[row.member_id]))


def _token_line(row: tokens.ApiToken, number: str) -> str:
    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
    return (
        f"{row.id:>5}  {number:>6}  {row.scope:<8} expires {row.expires_at:%Y-%m-%d}  "
        f"used {used:<16}  {state:<18} {row.name}"
    )


@steward.command("revoke-token")
@click.argument("token_id", type=int)
@pass_hub
def steward_revoke_token(hub: Hub, token_id: int) -> None:
    """Revoke API token TOKEN_ID (see `tokens`); scripts using it get 401 from now on."""
    with transaction(hub.migrated_engine()) as session:
        tokens.revoke_token(session, OPERATOR, token_id)
    click.echo(f"API token {token_id} revoked.")


# --- MQTT ingest --------------------------------------------------------------------------


@hub.command()
@click.option("--mqtt-host", default="127.0.0.1", show_default=True)
@click.option("--mqtt-port", default=1883, show_default=True, type=int)
@click.option(
    "--broker-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where `commonshed broker` keeps the hub's credentials (default: data dir).",
)
@click.option(
    "--worker",
    default=1,
    show_default=True,
    type=int,
    help="This worker's number; run several to share the load.",
)
@click.option(
    "--max-failures",
    default=MAX_FAILURES,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="COMMONSHED_INGEST_MAX_FAILURES",
    help="Exit (status 1, for systemd to restart) after a loop fails this often in a row.",
)
@pass_hub
def ingest(
    hub: Hub,
    mqtt_host: str,
    mqtt_port: int,
    broker_data_dir: Path | None,
    worker: int,
    max_failures: int,
) -> None:
    """Ingest kiosk events, answer kiosk requests and publish allow-lists until stopped.

    Every loop is supervised: a failure is logged and retried with a growing pause; a loop
    that fails --max-failures times in a row ends the process with status 1. Under systemd
    (Type=notify) it reports readiness and, while its loops come round, the watchdog's beat.
    """
    import logging
    import signal

    from broker.provision import load_credentials
    from hub.worker.loop import IngestGaveUp, IngestWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    credentials = load_credentials(broker_data_dir or hub.data_dir, "hub")
    worker_ = IngestWorker(
        hub.migrated_engine(),
        host=mqtt_host,
        port=mqtt_port,
        username=credentials.username,
        password=credentials.password,
        client_id=f"hub-ingest-{worker}",
        max_failures=max_failures,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker_.stop_soon())
    click.echo(f"Ingest worker {worker} on {mqtt_host}:{mqtt_port}; Ctrl-C stops it.", err=True)
    try:
        worker_.run_forever()
    except KeyboardInterrupt:
        pass
    except IngestGaveUp as gave_up:
        raise click.ClickException(f"ingest worker {worker} gave up: {gave_up}") from None


def _add_area_commands() -> None:
    """Add the commands of ``hub.commands`` (imported here: they import this module)."""
    from hub import commands

    commands.register(hub)


_add_area_commands()
