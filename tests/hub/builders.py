"""Small builders for hub tests: a kiosk with lockers, members with cards, tools in lockers."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from hub.infra.db import transaction
from hub.inventory.registry import Tool, add_locker, add_tool, register_kiosk
from hub.members.roster import Member, add_member, assign_card


def a_kiosk(
    session: Session, kiosk_id: str = "shed-1", *, slots: int = 4, site: str = "north"
) -> str:
    """Register a kiosk with ``slots`` lockers and return its id."""
    register_kiosk(session, kiosk_id, site=site, name=f"Kiosk {kiosk_id}")
    for slot in range(1, slots + 1):
        add_locker(session, kiosk_id, slot)
    return kiosk_id


def a_member(
    session: Session, name: str = "Ada Lovelace", *, uid: str | None = None, roles: str = "member"
) -> Member:
    """Enrol a member, with a card if ``uid`` is given."""
    member = add_member(session, name=name, roles=roles)
    if uid:
        assign_card(session, member.id, uid)
    return member


def a_tool(
    session: Session,
    code: str = "DRILL-1",
    *,
    kiosk_id: str | None = "shed-1",
    slot: int | None = 1,
    training: str | None = None,
) -> Tool:
    """Add a tool, by default in locker 1 of shed-1."""
    return add_tool(
        session,
        code=code,
        name="Cordless drill",
        category="power tools",
        kiosk_id=kiosk_id,
        slot=slot,
        training=training,
    )


def a_lending_library(engine: Engine) -> tuple[Engine, int, int]:
    """Set up a kiosk, one drill in locker 1 and one member; return (engine, member_id, tool_id)."""
    with transaction(engine) as session:
        a_kiosk(session)
        member, tool = a_member(session, uid="DEADBEEF"), a_tool(session)
        return engine, member.id, tool.id
