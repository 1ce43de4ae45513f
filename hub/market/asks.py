"""Asking members who might fix a broken tool, by email.

A steward picks among the suggested fixers (``skills.suggest_fixers``) and asks them (audited);
members who opted in (``SkillProfile.auto_ask``) are asked by the housekeeping pass as soon as
a tool of their skills is out of service. Each member is asked once per ticket (the mail key),
and only if they get ``fix_request`` mail (``hub.mail.choices``).
"""

from __future__ import annotations

from sqlmodel import Field, Session, SQLModel, select

from hub.errors import RuleViolation
from hub.infra import audit, settings
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.mail.choices import MailKind
from hub.mail.outbox import queue_mail
from hub.maintenance.tickets import live_tickets
from hub.market.skills import suggest_fixers
from hub.members.ranks import Actor, require_role
from hub.members.roster import Member, Role, member_by_number


class SkillProfile(SQLModel, table=True):
    """A member's choice about being asked to fix tools that match their skills."""

    __tablename__ = "skill_profile"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    auto_ask: bool = Field(default=False)  # ask me without a steward choosing me


def set_auto_ask(session: Session, member: Member, auto_ask: bool) -> SkillProfile:
    """Keep whether ``member`` is asked automatically when a tool of their skills breaks."""
    assert member.id is not None
    profile = session.get(SkillProfile, member.id) or SkillProfile(member_id=member.id)
    profile.auto_ask = auto_ask
    session.add(profile)
    session.flush()
    return profile


def auto_asked(session: Session, member_id: int) -> bool:
    profile = session.get(SkillProfile, member_id)
    return bool(profile and profile.auto_ask)


def ask_fixers(session: Session, actor: Actor, tool_id: int, numbers: list[str]) -> list[str]:
    """Ask members ``numbers`` by email to help fix an out-of-service tool; stewards only,
    audited. Return the numbers a mail was queued for (others have no address or said no)."""
    require_role(actor, Role.STEWARD, "ask members to fix a tool")
    tool = _broken(session, tool_id)
    if not numbers:
        raise RuleViolation("Choose at least one member to ask.", field="members")
    asked = [
        member.number
        for member in (member_by_number(session, n) for n in numbers)
        if _ask(session, member, tool)
    ]
    audit.record(
        session,
        actor_member_id=actor.id,
        action="tool.ask_fixers",
        target=f"tool:{tool.code}",
        after={"chosen": sorted(numbers), "mailed": sorted(asked)},
    )
    return asked


def ask_opted_in_fixers(session: Session) -> int:
    """Ask the members who opted in about every tool out of service that matches them
    (a housekeeping job; each member once per ticket). Return how many mails were queued."""
    broken = session.exec(select(Tool).where(Tool.status == ToolStatus.OUT_OF_SERVICE)).all()
    queued = 0
    for tool in broken:
        for suggestion in suggest_fixers(session, tool.id or 0, limit=20):
            if auto_asked(session, suggestion.member.id or 0):
                queued += _ask(session, suggestion.member, tool)
    return queued


def _broken(session: Session, tool_id: int) -> Tool:
    tool = get_tool(session, tool_id)
    if tool.status != ToolStatus.OUT_OF_SERVICE:
        raise RuleViolation(f"Tool {tool.code} is not out of service.", field="tool_code")
    return tool


def _ask(session: Session, member: Member, tool: Tool) -> bool:
    """Queue the ask; False if the member is suspended, has no address or said no."""
    if not member.is_active:
        return False
    ticket = next(iter(live_tickets(session, tool_id=tool.id)), None)
    why = f"\nWhat is wrong: {ticket.note}" if ticket and ticket.note else ""
    text = (
        f"Hello {member.name.split()[0]},\n\n"
        f"The {tool.name} ({tool.code}) is out of service and your skills match it.{why}\n"
        "If you can help, log the repair at the kiosk or tell a steward: the hours you spend "
        f"go to your timebank account.\nThe tool: {settings.public_url()}/tools/{tool.code}"
    )
    key = f"fix:{tool.code}:{ticket.id if ticket else 'none'}:{member.id}"
    mail = queue_mail(
        session, member, MailKind.FIX_REQUEST, f"Can you help fix the {tool.name}?", text, key=key
    )
    return mail is not None
