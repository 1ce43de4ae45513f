"""Who can fix what: members' skill tags, and the fixers a broken tool's ticket suggests.

A member lists their skills as free tags ("sharpening", "small-engines"). When a tool goes out
of service its ticket suggests active members whose tags match the tool's name or category, or
who repaired that tool or one of its category before. The open records show the hours each skill
has given to the commons (repair credits), by first name and member number only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import InvalidInput
from hub.inventory.registry import Tool, get_tool
from hub.maintenance.models import RepairLog
from hub.members.roster import Member, MemberStatus
from hub.timebank.claims import ClaimStatus, CreditClaim

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
MAX_SKILLS = 20


class MemberSkill(SQLModel, table=True):
    """One skill a member says they have."""

    __tablename__ = "member_skill"
    __table_args__ = (UniqueConstraint("member_id", "tag", name="uq_member_skill"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    tag: str = Field(max_length=30, index=True)


@dataclass
class Suggestion:
    """A member who might fix a tool, and why they are suggested."""

    member: Member
    reasons: list[str] = field(default_factory=list)


def parse_tags(text: str | list[str]) -> list[str]:
    """Return the tags of ``text`` (comma- or space-separated), lowercased, each checked."""
    items = text.replace(",", " ").split() if isinstance(text, str) else text
    tags = sorted({item.strip().lower() for item in items if item.strip()})
    for tag in tags:
        if not TAG.match(tag):
            raise InvalidInput(
                f"Skill {tag!r}: 1-30 lowercase letters, digits or hyphens.", field="skills"
            )
    if len(tags) > MAX_SKILLS:
        raise InvalidInput(f"At most {MAX_SKILLS} skills, not {len(tags)}.", field="skills")
    return tags


def set_skills(session: Session, member: Member, tags: str | list[str]) -> list[str]:
    """Make ``member``'s skills exactly ``tags``; return them."""
    wanted = set(parse_tags(tags))
    for held in session.exec(select(MemberSkill).where(MemberSkill.member_id == member.id)):
        if held.tag in wanted:
            wanted.discard(held.tag)
        else:
            session.delete(held)
    assert member.id is not None
    session.add_all(MemberSkill(member_id=member.id, tag=tag) for tag in sorted(wanted))
    session.flush()
    return skills_of(session, member.id)


def skills_of(session: Session, member_id: int) -> list[str]:
    query = select(MemberSkill.tag).where(MemberSkill.member_id == member_id)
    return sorted(session.exec(query).all())


def suggest_fixers(session: Session, tool_id: int, *, limit: int = 5) -> list[Suggestion]:
    """Return active members who might fix the tool: matching skills, then past repairs."""
    tool = get_tool(session, tool_id)
    found: dict[int, Suggestion] = {}
    for member, tag in _by_skill(session, tool):
        _suggest(found, member, f"skill: {tag}")
    for member, count, same_tool in _by_repairs(session, tool):
        what = "this tool" if same_tool else f"{tool.category} tools"
        _suggest(found, member, f"repaired {what} {count} time(s)")
    ranked = sorted(found.values(), key=lambda s: (-len(s.reasons), s.member.number))
    return ranked[:limit]


def skill_hours(session: Session) -> list[tuple[str, str, str, Decimal]]:
    """Return (skill, first name, member number, repair hours credited) for every member's
    skill that has given hours to the commons, most hours first."""
    credited = (
        select(CreditClaim.member_id, func.sum(CreditClaim.approved_hours).label("hours"))
        .where(CreditClaim.status == ClaimStatus.APPROVED)
        .group_by(CreditClaim.member_id)
        .subquery()
    )
    rows = session.exec(
        select(MemberSkill.tag, Member.name, Member.number, credited.c.hours)
        .join(Member, Member.id == MemberSkill.member_id)
        .join(credited, credited.c.member_id == MemberSkill.member_id)
    ).all()
    result = [(tag, name.split()[0], number, Decimal(hours)) for tag, name, number, hours in rows]
    return sorted(result, key=lambda row: (-row[3], row[0], row[2]))


def _words(tool: Tool) -> set[str]:
    return {
        w for w in re.split(r"[^a-z0-9]+", f"{tool.name} {tool.category}".lower()) if len(w) > 2
    }


def _by_skill(session: Session, tool: Tool) -> list[tuple[Member, str]]:
    words = _words(tool)
    rows = session.exec(
        select(Member, MemberSkill.tag)
        .join(MemberSkill, MemberSkill.member_id == Member.id)
        .where(Member.status == MemberStatus.ACTIVE)
    ).all()
    return [(m, tag) for m, tag in rows if any(_akin(w, tag) for w in words)]


def _akin(word: str, tag: str) -> bool:
    """Tell whether a word of the tool's name or category and a skill tag are about the same
    thing: one contains the other, or a part of the tag shares its first four letters with
    the word ("sanding" and "sander", "power-tools" and "tools")."""
    if word in tag or tag in word:
        return True
    return any(len(part) >= 4 and part[:4] == word[:4] for part in tag.split("-"))


def _by_repairs(session: Session, tool: Tool) -> list[tuple[Member, int, bool]]:
    rows = session.exec(
        select(Member, RepairLog.tool_id, func.count())
        .join(RepairLog, RepairLog.member_id == Member.id)
        .join(Tool, Tool.id == RepairLog.tool_id)
        .where(Member.status == MemberStatus.ACTIVE, Tool.category == tool.category)
        .group_by(Member.id, RepairLog.tool_id)
    ).all()
    return [(member, count, tool_id == tool.id) for member, tool_id, count in rows]


def _suggest(found: dict[int, Suggestion], member: Member, reason: str) -> None:
    assert member.id is not None
    found.setdefault(member.id, Suggestion(member)).reasons.append(reason)
