"""Kiosks, their lockers, and the tools that live in them.

The functions here check and add records without an actor (the demo, CSV imports, the ingest and
tests use them); a steward's doors, which check the role and audit, are ``tools`` and ``kiosks``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint, inspect
from sqlmodel import Field, Session, SQLModel, col, select

from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.rows import find_unique, transaction_cache
from hub.infra.sync import KioskVisible
from hub.inventory.sites import ensure_site
from hub.members.roster import NAME_MAX, NOTE_MAX, Training, clean_text, training_by_code
from hub.wire import (
    parse_kiosk_id,
    parse_loan_days,
    parse_locker_slot,
    parse_name,
    parse_site_id,
    parse_tool_code,
)

CATEGORY_MAX = 60


class ToolStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    OUT_OF_SERVICE = "out_of_service"
    RETIRED = "retired"


class Kiosk(SQLModel, KioskVisible, table=True):
    id: str = Field(primary_key=True, max_length=32)
    site: str = Field(max_length=32, index=True)
    name: str = Field(max_length=NAME_MAX)
    registered_at: datetime = Field(default_factory=utcnow)
    # When its broker credentials were last made, and revoked (a revoked kiosk cannot log in).
    provisioned_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)


class Locker(SQLModel, KioskVisible, table=True):
    __table_args__ = (UniqueConstraint("kiosk_id", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    kiosk_id: str = Field(foreign_key="kiosk.id", index=True, max_length=32)
    slot: int
    label: str | None = Field(default=None, max_length=NAME_MAX)


class Tool(SQLModel, KioskVisible, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=24, unique=True, index=True)
    name: str = Field(max_length=NAME_MAX)
    category: str = Field(max_length=CATEGORY_MAX, index=True)
    status: str = Field(default=ToolStatus.AVAILABLE, max_length=16, index=True)
    status_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    locker_id: int | None = Field(default=None, foreign_key="locker.id", unique=True)
    training_id: int | None = Field(default=None, foreign_key="training.id")
    loan_days: int = Field(default=7)
    added_at: datetime = Field(default_factory=utcnow)
    notes: str | None = Field(default=None, max_length=NOTE_MAX)


# What a steward does to kiosks, lockers and tools, as the audit log records it: one field list
# per action, whichever door (page, API, CLI) it came through (``hub.inventory.tools``/``kiosks``).
KIOSK_REGISTER = audit.Action("kiosk.register", ("id", "site", "name"))
KIOSK_RENAME = audit.Action("kiosk.rename", ("name",))
KIOSK_PROVISION = audit.Action("kiosk.provision", ("provisioned_at", "revoked_at"))
KIOSK_REVOKE = audit.Action("kiosk.revoke", ("provisioned_at", "revoked_at"))
LOCKER_ADD = audit.Action("locker.add", ("kiosk_id", "slot", "label"))
LOCKER_REMOVE = audit.Action("locker.remove", ("kiosk_id", "slot", "label"))
TOOL_FIELDS = ("name", "category", "training_id", "loan_days", "notes")
TOOL_ADD = audit.Action("tool.add", ("code", *TOOL_FIELDS, "locker_id"))
TOOL_EDIT = audit.Action("tool.edit", TOOL_FIELDS)
TOOL_MOVE = audit.Action("tool.move", ("locker_id",))
TOOL_RETIRE = audit.Action("tool.retire", ("status", "status_reason", "locker_id"))
CATEGORY_RENAME = audit.Action("category.rename", ("category",))


# --- kiosks and lockers -------------------------------------------------------------------


def register_kiosk(session: Session, kiosk_id: str, *, site: str, name: str) -> Kiosk:
    """Register a kiosk at a site; its broker login comes from ``kiosks.provision_kiosk``.

    The kiosk id, site and name follow the wire's rules (``hub.wire``): ``hub`` and every other
    reserved name are refused here, at every door. An unknown site is added (everyone may
    borrow there), so a kiosk's site is always a record.
    """
    kiosk = new_kiosk(session, kiosk_id, site=site, name=name)
    session.add(kiosk)
    ensure_site(session, kiosk.site)
    session.flush()
    return kiosk


def new_kiosk(session: Session, kiosk_id: str, *, site: str, name: str) -> Kiosk:
    """Return a kiosk checked against the wire's rules and the registry, not yet added."""
    kiosk_id = parse_kiosk_id(kiosk_id)
    if session.get(Kiosk, kiosk_id) is not None:
        raise Conflict(f"Kiosk {kiosk_id} is already registered.", field="kiosk_id")
    return Kiosk(id=kiosk_id, site=parse_site_id(site), name=parse_name(name))


def get_kiosk(session: Session, kiosk_id: str) -> Kiosk:
    """Return kiosk ``kiosk_id`` or refuse."""
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound(f"Kiosk {kiosk_id} is not registered.", field="kiosk_id")
    return kiosk


def list_kiosks(session: Session) -> list[Kiosk]:
    """Return every kiosk, by id."""
    return list(session.exec(select(Kiosk).order_by(Kiosk.id)))


def add_locker(session: Session, kiosk_id: str, slot: int, *, label: str | None = None) -> Locker:
    """Add locker ``slot`` to a kiosk."""
    locker = new_locker(session, kiosk_id, slot, label=label)
    session.add(locker)
    session.flush()
    return locker


def new_locker(session: Session, kiosk_id: str, slot: int, *, label: str | None = None) -> Locker:
    """Return locker ``slot`` of a kiosk, checked (the kiosk exists, the slot is free)."""
    kiosk = get_kiosk(session, kiosk_id)
    parse_locker_slot(slot)
    if find_locker(session, kiosk.id, slot) is not None:
        raise Conflict(f"Kiosk {kiosk.id} already has locker {slot}.", field="slot")
    return Locker(
        kiosk_id=kiosk.id,
        slot=slot,
        label=clean_text(label, "label", limit=NAME_MAX, required=False),
    )


def find_locker(session: Session, kiosk_id: str, slot: int) -> Locker | None:
    """Return locker ``slot`` of a kiosk, or None.

    A locker found once in a transaction (or read ahead by ``load_lockers``) is returned again
    with no query while it is in the session; a slot not found is asked for every time.

    NOTE: the ingest checks the locker of nearly every event (a door, a loan, a return), a
    query each (bench/hub_ingest_bench.py --in-process).
    """
    found = transaction_cache(session, "lockers")
    locker: Locker | None = found.get((kiosk_id, slot))
    if locker is not None and inspect(locker).persistent:
        return locker
    locker = session.exec(
        select(Locker).where(Locker.kiosk_id == kiosk_id, Locker.slot == slot)
    ).first()
    if locker is not None:
        found[(kiosk_id, slot)] = locker
    return locker


def load_lockers(session: Session, wanted: set[tuple[str, int]]) -> None:
    """Read the lockers ``wanted`` ((kiosk id, slot) pairs) in one query, for ``find_locker``."""
    found = transaction_cache(session, "lockers")
    kiosks = {kiosk_id for kiosk_id, _slot in wanted}
    slots = {slot for _kiosk_id, slot in wanted}
    query = select(Locker).where(col(Locker.kiosk_id).in_(kiosks), col(Locker.slot).in_(slots))
    for locker in session.exec(query):
        found[(locker.kiosk_id, locker.slot)] = locker


def lockers_of(session: Session, kiosk_id: str) -> list[Locker]:
    """Return a kiosk's lockers by slot."""
    return list(
        session.exec(select(Locker).where(Locker.kiosk_id == kiosk_id).order_by(Locker.slot))
    )


# --- tools --------------------------------------------------------------------------------


def add_tool(
    session: Session,
    *,
    code: str,
    name: str,
    category: str,
    kiosk_id: str | None = None,
    slot: int | None = None,
    training: str | None = None,
    loan_days: int = 7,
    notes: str | None = None,
) -> Tool:
    """Add a tool to the library, optionally in its home locker and gated by a training."""
    tool = new_tool(
        session,
        code=code,
        name=name,
        category=category,
        kiosk_id=kiosk_id,
        slot=slot,
        training=training,
        loan_days=loan_days,
        notes=notes,
    )
    session.add(tool)
    session.flush()
    return tool


def new_tool(
    session: Session,
    *,
    code: str,
    name: str,
    category: str,
    kiosk_id: str | None = None,
    slot: int | None = None,
    training: str | None = None,
    loan_days: int = 7,
    notes: str | None = None,
) -> Tool:
    """Return a tool checked against the rules and the registry (a free home locker), not added."""
    code = parse_tool_code(code)
    if session.exec(select(Tool.id).where(Tool.code == code)).first():
        raise Conflict(f"Tool {code} already exists.", field="code")
    parse_loan_days(loan_days)
    tool = Tool(
        code=code,
        name=clean_text(name, "name", limit=NAME_MAX),
        category=parse_category(category),
        training_id=training_by_code(session, training).id if training else None,
        loan_days=loan_days,
        notes=clean_text(notes, "notes", limit=NOTE_MAX, required=False),
    )
    if kiosk_id is not None or slot is not None:
        tool.locker_id = free_locker(session, kiosk_id, slot).id
    return tool


def parse_category(category: str, field: str = "category") -> str:
    """Return a category as tools carry it: not blank, at most 60 characters, lowercase."""
    return clean_text(category, field, limit=CATEGORY_MAX).lower()


def free_locker(session: Session, kiosk_id: str | None, slot: int | None) -> Locker:
    """Return the named locker if no tool lives in it yet."""
    if kiosk_id is None or slot is None:
        raise InvalidInput("A home locker needs both a kiosk and a slot.", field="slot")
    locker = find_locker(session, kiosk_id, slot)
    if locker is None:
        get_kiosk(session, kiosk_id)
        raise NotFound(f"Kiosk {kiosk_id} has no locker {slot}.", field="slot")
    occupant = occupant_of(session, locker)
    if occupant:
        raise Conflict(f"Locker {slot} at {kiosk_id} already holds tool {occupant}.", field="slot")
    return locker


def occupant_of(session: Session, locker: Locker) -> str | None:
    """Return the code of the tool whose home is ``locker``, or None."""
    return session.exec(select(Tool.code).where(Tool.locker_id == locker.id)).first()


def get_tool(session: Session, tool_id: int) -> Tool:
    """Return tool ``tool_id`` or refuse."""
    tool = session.get(Tool, tool_id)
    if tool is None:
        raise NotFound(f"Tool {tool_id} does not exist.", field="tool_id")
    return tool


def tool_by_code(session: Session, code: str) -> Tool:
    """Return the tool with asset tag ``code`` or refuse."""
    tool = find_unique(session, Tool, Tool.code, (code or "").strip().upper())
    if tool is None:
        raise NotFound(f"Tool {code} does not exist.", field="tool_code")
    return tool


def take_out_of_service(session: Session, tool_id: int, reason: str) -> Tool:
    """Take a tool out of service; its locker stops opening for loans."""
    tool = get_tool(session, tool_id)
    if tool.status == ToolStatus.RETIRED:
        raise ToolUnavailable(f"Tool {tool.code} is retired.")
    tool.status = ToolStatus.OUT_OF_SERVICE
    tool.status_reason = clean_text(reason, "reason", limit=NOTE_MAX)
    session.add(tool)
    return tool


def return_to_service(session: Session, tool_id: int, *, on_loan: bool = False) -> Tool:
    """Put an out-of-service tool back: available, or still on loan if a loan is open."""
    tool = get_tool(session, tool_id)
    if tool.status == ToolStatus.OUT_OF_SERVICE:
        tool.status = ToolStatus.ON_LOAN if on_loan else ToolStatus.AVAILABLE
        tool.status_reason = None
        session.add(tool)
    return tool


def required_training(session: Session, tool: Tool) -> Training | None:
    """Return the training a tool needs, if any."""
    return session.get(Training, tool.training_id) if tool.training_id else None


def rehome_tool(session: Session, tool_id: int, kiosk_id: str, slot: int) -> bool:
    """Make locker ``slot`` of ``kiosk_id`` the tool's home if it holds no other tool.

    A tool returned at another kiosk goes into an empty locker there; this records where it
    now lives. Return whether the home changed.
    """
    tool, locker = get_tool(session, tool_id), find_locker(session, kiosk_id, slot)
    if locker is None or tool.locker_id == locker.id:
        return False
    if session.exec(select(Tool.id).where(Tool.locker_id == locker.id)).first() is not None:
        return False
    tool.locker_id = locker.id
    session.add(tool)
    session.flush()
    return True
