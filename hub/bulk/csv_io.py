"""Import members and tools from CSV, all or nothing, and export the records as CSV.

An import first checks every row against the rules and against what the database already holds;
if any row is refused, nothing at all is written and the report names each refused row and field.
:func:`import_csv` is the steward's door (the page, the API and the CLI): it checks the role,
refuses a file already imported, and audits each import with its counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO, TypedDict

from sqlalchemy import insert
from sqlmodel import Session, select

from hub.errors import Conflict, DomainError, InvalidInput
from hub.infra import audit, sync
from hub.infra.clock import utcnow
from hub.infra.csv_cells import unescape_cell, write_csv
from hub.inventory.registry import Kiosk, Locker, Tool, ToolStatus
from hub.members.ranks import OPERATOR, Actor, require_may_grant, require_role
from hub.members.roster import (
    CONTACT_MAX,
    NAME_MAX,
    Card,
    Member,
    MemberStatus,
    Role,
    Training,
    clean_text,
    next_member_number,
    parse_roles,
)
from hub.members.standing import record_grant
from hub.queries.tools import tool_board
from hub.wire import (
    parse_loan_days,
    parse_locker_slot,
    parse_member_number,
    parse_name,
    parse_tool_code,
    parse_uid,
)

MEMBER_COLUMNS = ("number", "name", "email", "phone", "roles", "cards")
MEMBER_REQUIRED = ("name",)
TOOL_COLUMNS = ("code", "name", "category", "kiosk", "slot", "training", "loan_days")
TOOL_REQUIRED = ("code", "name", "category")
MAX_FIELD = 1000  # longer than any field we keep: refuse before anything else looks at it

Progress = Callable[[int], None]
IMPORT_ACTIONS = {
    "members": audit.Action("import.members", ()),
    "tools": audit.Action("import.tools", ()),
}


@dataclass
class Refusal:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    dry_run: bool = False

    @property
    def written(self) -> int:
        """Return how many rows were written: all of them, or none if any was refused."""
        return 0 if self.refusals or self.dry_run else self.rows

    @property
    def ok(self) -> bool:
        return not self.refusals


# --- the steward's door ------------------------------------------------------------------


def import_csv(
    session: Session,
    actor: Actor,
    kind: str,
    text: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``kind`` ("members" or "tools") from CSV ``text`` as ``actor``: all rows or none.

    Stewards only (granting roles in a members file still follows the ranks, row by row). A
    dry run checks every row and writes nothing. An import that writes is audited once, with
    its counts and the file's SHA-256; the same file a second time is refused (a repeated
    submit must not add the members twice), naming the field ``csv``.
    """
    require_role(actor, Role.STEWARD, f"import {kind}")
    if kind not in IMPORT_ACTIONS:
        raise InvalidInput(f"Unknown import {kind!r}: members or tools.", field="kind")
    text = text.removeprefix("\ufeff")  # a byte-order mark, as spreadsheets save UTF-8
    digest = hashlib.sha256(text.encode()).hexdigest()
    if not dry_run:
        _require_not_imported(session, kind, digest)
    stream = io.StringIO(text, newline="")
    try:
        if kind == "members":
            report = import_members(
                session, stream, dry_run=dry_run, progress=progress, actor=actor
            )
        else:
            report = import_tools(session, stream, dry_run=dry_run, progress=progress)
    except csv.Error as unreadable:  # e.g. a cell past the csv module's 128 kB field limit
        raise InvalidInput(f"The file cannot be read as CSV: {unreadable}.", field="csv") from None
    if report.written:
        audit.record(
            session,
            actor_member_id=actor.id,
            action=IMPORT_ACTIONS[kind].name,
            target=_import_target(digest),
            after={"kind": kind, "rows": report.rows, "written": report.written, "sha256": digest},
        )
    return report


def _import_target(digest: str) -> str:
    return f"import:{digest[:16]}"


def _require_not_imported(session: Session, kind: str, digest: str) -> None:
    """Refuse a file whose very text was imported before (found by its audit entry)."""
    earlier = audit.recent(session, limit=1, target=_import_target(digest))
    if earlier:
        raise Conflict(
            f"This {kind} file was imported already, on {earlier[0].at:%Y-%m-%d %H:%M} UTC; "
            "nothing was written again.",
            field="csv",
        )


# --- reading ------------------------------------------------------------------------------


def read_rows(
    stream: TextIO, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a CSV whose header must use only ``columns``."""
    reader = csv.DictReader(stream)
    _check_header(reader.fieldnames, columns, required)
    for row in reader:
        if None in row:  # more cells than headers
            yield reader.line_num, {"__extra__": "x"}
            continue
        # Our exports escape formula-like cells (hub.infra.csv_cells); read them back as written.
        yield reader.line_num, {key: unescape_cell(value or "") for key, value in row.items()}


def _check_header(
    header: Sequence[str] | None, columns: tuple[str, ...], required: tuple[str, ...]
) -> None:
    """Refuse a header with unknown or missing columns, naming them."""
    if not header:
        raise InvalidInput("The CSV file is empty: it needs a header row.", field="header")
    names = [name.strip() for name in header]
    unknown = [name for name in names if name not in columns]
    missing = [name for name in required if name not in names]
    if unknown or missing:
        problems = [
            f"unknown column(s) {', '.join(unknown)}" if unknown else "",
            f"missing column(s) {', '.join(missing)}" if missing else "",
        ]
        raise InvalidInput(
            f"Wrong columns: {'; '.join(p for p in problems if p)}. "
            f"Expected: {', '.join(columns)}.",
            field="header",
        )


def _refuse_oversized(line: int, row: dict[str, str], report: ImportReport) -> bool:
    """Record a refusal for a row with too many cells or a giant field; True if refused."""
    if "__extra__" in row:
        report.refusals.append(Refusal(line, "row", "has more cells than the header"))
        return True
    for name, value in row.items():
        if len(value) > MAX_FIELD:
            report.refusals.append(Refusal(line, name, f"is {len(value)} characters long"))
            return True
    return False


# --- members ------------------------------------------------------------------------------


def import_members(
    session: Session,
    stream: TextIO,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor: Actor = OPERATOR,
) -> ImportReport:
    """Import members (with their cards) from CSV: all rows, or none if any is refused.

    Roles beyond member are grants by ``actor`` (the operator: imports run at the hub's shell):
    rank-checked per row and audited per member, in the import's transaction.
    """
    report = ImportReport("members", dry_run=dry_run)
    taken_numbers = set(session.exec(select(Member.number)))
    taken_uids = set(session.exec(select(Card.uid)))
    next_number = int(next_member_number(session))
    staged: list[tuple[_StagedMember, list[str]]] = []
    for line, row in read_rows(stream, MEMBER_COLUMNS, MEMBER_REQUIRED):
        report.rows += 1
        if not _refuse_oversized(line, row, report):
            staged += _stage_member(line, row, taken_numbers, taken_uids, report, actor)
        if progress:
            progress(1)
    next_number = max([next_number, *(int(m["number"]) + 1 for m, _ in staged if m["number"])])
    for member, _ in staged:
        if not member["number"]:
            member["number"], next_number = str(next_number), next_number + 1
    if report.ok and not dry_run:
        _write_members(session, staged)
        _audit_grants(session, staged, actor)
    return report


class _StagedMember(TypedDict):
    """A member row that passed its checks, as the Member table's columns."""

    number: str  # "" until one is allotted
    name: str
    email: str | None
    phone: str | None
    roles: str
    status: str


def _stage_member(
    line: int,
    row: dict[str, str],
    taken_numbers: set[str],
    taken_uids: set[str],
    report: ImportReport,
    actor: Actor,
) -> list[tuple[_StagedMember, list[str]]]:
    """Validate one member row; return it staged, or record why it was refused."""
    try:
        member: _StagedMember = {
            "number": parse_member_number(row["number"]) if row.get("number", "").strip() else "",
            "name": parse_name(row.get("name")),
            "email": clean_text(row.get("email"), "email", limit=CONTACT_MAX, required=False),
            "phone": clean_text(row.get("phone"), "phone", limit=40, required=False),
            "roles": parse_roles(row.get("roles")),
            "status": MemberStatus.ACTIVE.value,
        }
        granted = frozenset(Role(r) for r in member["roles"].split()) - {Role.MEMBER}
        require_may_grant(actor, granted)
        uids = [parse_uid(uid, "cards") for uid in row.get("cards", "").replace(";", " ").split()]
        _claim(member["number"], taken_numbers, "number", "Member number {} is already taken.")
        for uid in uids:
            _claim(uid, taken_uids, "cards", "Card {} already belongs to another member.")
    except DomainError as error:
        report.refusals.append(Refusal(line, error.field or "row", error.message))
        return []
    return [(member, uids)]


def _claim(value: str, taken: set[str], field: str, message: str) -> None:
    """Reserve ``value`` in ``taken`` (the database's and earlier rows'), refusing a duplicate."""
    if not value:
        return
    if value in taken:
        raise InvalidInput(message.format(value), field=field)
    taken.add(value)


def _write_members(session: Session, staged: list[tuple[_StagedMember, list[str]]]) -> None:
    """Insert staged members, then their cards once the members have ids."""
    # NOTE: Core executemany, not ORM objects: building 10,000 SQLModel instances took 3 of
    # the 3.5 seconds of a 10,000-row import (bench/import_members.py).
    now = utcnow()
    session.execute(insert(Member), [{**member, "joined_at": now} for member, _ in staged])
    ids = dict(session.exec(select(Member.number, Member.id)).all())
    cards = [
        {"uid": uid, "member_id": ids[member["number"]], "issued_at": now}
        for member, uids in staged
        for uid in uids
    ]
    if cards:
        session.execute(insert(Card), cards)
    sync.bump(session)  # Core inserts skip the ORM's flush hook


def _audit_grants(
    session: Session, staged: list[tuple[_StagedMember, list[str]]], actor: Actor
) -> None:
    """Audit every imported member who holds a role beyond member: each is a grant."""
    for member, _ in staged:
        if member["roles"] != Role.MEMBER.value:
            record_grant(
                session, actor, member["number"], before=Role.MEMBER.value, after=member["roles"]
            )


# --- tools --------------------------------------------------------------------------------


def import_tools(
    session: Session, stream: TextIO, *, dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Import tools (with home lockers) from CSV: all rows, or none if any is refused."""
    report = ImportReport("tools", dry_run=dry_run)
    known = _ToolContext.load(session)
    staged: list[dict[str, object]] = []
    for line, row in read_rows(stream, TOOL_COLUMNS, TOOL_REQUIRED):
        report.rows += 1
        if not _refuse_oversized(line, row, report):
            try:
                staged.append(known.stage(row))
            except DomainError as error:
                report.refusals.append(Refusal(line, error.field or "row", error.message))
        if progress:
            progress(1)
    if report.ok and not dry_run and staged:
        session.execute(insert(Tool), [tool | {"added_at": utcnow()} for tool in staged])
        sync.bump(session)
    return report


@dataclass
class _ToolContext:
    """What a tool row is checked against: existing codes, lockers, trainings, kiosks."""

    codes: set[str]
    kiosks: set[str]
    lockers: dict[tuple[str, int], int]
    occupied: set[int]
    trainings: dict[str, int]

    @classmethod
    def load(cls, session: Session) -> _ToolContext:
        lockers = {
            (k, s): i
            for i, k, s in session.exec(select(Locker.id, Locker.kiosk_id, Locker.slot))
            if i is not None  # a stored row has its id
        }
        return cls(
            codes=set(session.exec(select(Tool.code))),
            kiosks=set(session.exec(select(Kiosk.id))),
            lockers=lockers,
            occupied={i for i in session.exec(select(Tool.locker_id)) if i is not None},
            trainings={
                code: i
                for i, code in session.exec(select(Training.id, Training.code))
                if i is not None  # a stored row has its id
            },
        )

    def stage(self, row: dict[str, str]) -> dict[str, object]:
        """Validate one tool row against the context and reserve its code and locker."""
        code = parse_tool_code(row["code"])
        tool: dict[str, object] = {
            "code": code,
            "name": clean_text(row.get("name"), "name", limit=NAME_MAX),
            "category": clean_text(row.get("category"), "category", limit=60).lower(),
            "training_id": self._training(row.get("training", "")),
            "loan_days": parse_loan_days(_whole_number(row.get("loan_days", ""), "loan_days", 7)),
            "locker_id": self._locker(row.get("kiosk", ""), row.get("slot", "")),
            "status": ToolStatus.AVAILABLE.value,
        }
        _claim(code, self.codes, "code", "Tool {} already exists.")
        if isinstance(locker_id := tool["locker_id"], int):
            self.occupied.add(locker_id)
        return tool

    def _training(self, code: str) -> int | None:
        code = code.strip().lower()
        if code and code not in self.trainings:
            raise InvalidInput(f"Training {code!r} does not exist.", field="training")
        return self.trainings.get(code) if code else None

    def _locker(self, kiosk: str, slot_text: str) -> int | None:
        kiosk = kiosk.strip()
        if not kiosk and not slot_text.strip():
            return None
        if kiosk not in self.kiosks:
            raise InvalidInput(f"Kiosk {kiosk!r} is not registered.", field="kiosk")
        slot = parse_locker_slot(_whole_number(slot_text, "slot", None))
        locker_id = self.lockers.get((kiosk, slot))
        if locker_id is None:
            raise InvalidInput(f"Kiosk {kiosk} has no locker {slot}.", field="slot")
        if locker_id in self.occupied:
            raise InvalidInput(f"Locker {slot} at {kiosk} already holds a tool.", field="slot")
        return locker_id


def _whole_number(text: str, field: str, default: int | None) -> int:
    """Parse a whole number (its range is the wire's to check), or return ``default`` for an
    empty cell."""
    text = (text or "").strip()
    if not text and default is not None:
        return default
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"{field} {text!r} must be a whole number.", field=field)
    return int(text)


# --- export -------------------------------------------------------------------------------


def export_members(session: Session, out: TextIO) -> int:
    """Write every member, with live cards, as CSV that ``import_members`` reads back."""
    cards: dict[int, list[str]] = {}
    for card in session.exec(select(Card).where(Card.revoked_at.is_(None)).order_by(Card.id)):
        cards.setdefault(card.member_id, []).append(card.uid)
    rows = (
        [m.number, m.name, m.email or "", m.phone or "", m.roles, " ".join(cards.get(m.id, []))]
        for m in session.exec(select(Member).order_by(Member.number))
    )
    return write_csv(out, MEMBER_COLUMNS, rows)


def export_tools(session: Session, out: TextIO) -> int:
    """Write every tool with its home locker as CSV that ``import_tools`` reads back."""
    trainings = {i: code for i, code in session.exec(select(Training.id, Training.code))}
    rows = (
        [
            r.tool.code,
            r.tool.name,
            r.tool.category,
            r.kiosk_id or "",
            r.slot or "",
            trainings.get(r.tool.training_id, ""),
            r.tool.loan_days,
        ]
        for r in tool_board(session)
    )
    return write_csv(out, TOOL_COLUMNS, rows)


def to_text(export: Callable[[Session, TextIO], int], session: Session) -> str:
    """Return what an export function writes, as a string."""
    buffer = io.StringIO()
    export(session, buffer)
    return buffer.getvalue()
