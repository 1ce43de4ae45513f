"""The borrowing policy stewards set: how many tools at once, how long a loan lasts, when
overdue tools pause borrowing, and the holds' limits.

One row of settings (``BorrowingPolicy``, absent until a steward first sets it: then the
defaults apply) and the loan lengths set per tool or per category (``LoanLength``). Kiosks
enforce what they can from the allow-list (``limits_for_kiosk``); the hub enforces the same
rules on the loans stewards make (``require_may_borrow``). Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from broker import messages as wire
from hub.errors import InvalidInput, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.infra.rows import transaction_cache
from hub.infra.sync import KioskVisible
from hub.inventory.registry import Tool, tool_by_code
from hub.loans.records import Loan
from hub.members.ranks import Actor, require_role
from hub.members.roster import Member, Role

DEFAULT_MAX_HOLDS = 3
DEFAULT_HOLD_HOURS = 24
# field -> (lowest, highest) a steward may set; None means "no limit" for the nullable ones
BOUNDS: dict[str, tuple[int, int]] = {
    "max_loans": (1, 100),
    "overdue_grace_days": (0, 365),
    "max_holds": (1, 50),
    "hold_hours": (1, 336),
}
NULLABLE = frozenset({"max_loans", "overdue_grace_days"})
LOAN_DAYS = (1, 365)


class LoanLimitReached(RuleViolation, PermissionError):
    """The member has as many tools out as the policy allows at once."""


class BorrowingPaused(RuleViolation, PermissionError):
    """The member has a tool out past its due date by more than the policy allows."""


class BorrowingPolicy(SQLModel, KioskVisible, table=True):
    """The network's borrowing rules (one row, id 1). Kiosk-visible: the limits are in the
    allow-list."""

    __tablename__ = "borrowing_policy"

    id: int = Field(default=1, primary_key=True)
    max_loans: int | None = None  # tools out at once (None: no limit)
    overdue_grace_days: int | None = None  # pause borrowing past this (None: never pause)
    max_holds: int = DEFAULT_MAX_HOLDS  # live holds per member
    hold_hours: int = DEFAULT_HOLD_HOURS  # how long a returned tool is kept for the next in line


class LoanLength(SQLModel, KioskVisible, table=True):
    """How many days a loan lasts, for one tool or for a whole category (the tool's own rule
    wins; without either, the tool's registered ``loan_days``). Kiosk-visible: the config
    carries each locker's loan length."""

    __tablename__ = "loan_length"

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int | None = Field(default=None, foreign_key="tool.id", unique=True)
    category: str | None = Field(default=None, max_length=60, unique=True)
    days: int


POLICY_SET = audit.Action("policy.set", tuple(BOUNDS))
LOAN_LENGTH_SET = audit.Action("policy.loan_length", ("tool_id", "category", "days"))


# --- reading ------------------------------------------------------------------------------


def current_policy(session: Session) -> BorrowingPolicy:
    """Return the policy in force (the defaults, not stored, if no steward has set one)."""
    return session.get(BorrowingPolicy, 1) or BorrowingPolicy()


def loan_days_for(session: Session, tool: Tool) -> int:
    """Return how many days a new loan of ``tool`` lasts: the tool's rule, else its
    category's, else its registered ``loan_days``. Read once per transaction."""
    cache = transaction_cache(session, "loan_lengths")
    if "rules" not in cache:
        rows = session.exec(select(LoanLength)).all()
        cache["rules"] = (
            {row.tool_id: row.days for row in rows if row.tool_id is not None},
            {row.category: row.days for row in rows if row.category is not None},
        )
    by_tool, by_category = cache["rules"]
    days: int = by_tool.get(tool.id, by_category.get(tool.category, tool.loan_days))
    return days


def loan_lengths_with_codes(session: Session) -> list[tuple[LoanLength, str | None]]:
    """Return every loan-length rule with its tool's code (None for a category's rule)."""
    query = (
        select(LoanLength, Tool.code)
        .join(Tool, LoanLength.tool_id == Tool.id, isouter=True)
        .order_by(col(LoanLength.category), Tool.code)
    )
    return [(rule, code) for rule, code in session.exec(query)]


def limits_for_kiosk(session: Session) -> wire.BorrowingLimits:
    """Return what kiosks enforce of the policy."""
    policy = current_policy(session)
    return wire.BorrowingLimits(
        max_loans=policy.max_loans, overdue_grace_days=policy.overdue_grace_days
    )


@dataclass(frozen=True)
class Standing:
    """A member's borrowing now: tools out, and those overdue beyond the grace."""

    out: int
    overdue: list[str]


def standing_of(session: Session, member_id: int, now: datetime) -> Standing:
    """Return how many tools ``member_id`` has out and which are overdue past the grace."""
    policy = current_policy(session)
    rows = session.exec(
        select(Tool.code, Loan.due_at)
        .join(Tool, Loan.tool_id == Tool.id)
        .where(Loan.member_id == member_id, Loan.returned_at.is_(None))
    ).all()
    grace = policy.overdue_grace_days
    late = [
        code
        for code, due in rows
        if grace is not None and as_utc(due) < now - timedelta(days=grace)
    ]
    return Standing(len(rows), sorted(late))


def require_may_borrow(session: Session, member: Member, now: datetime | None = None) -> None:
    """Refuse a loan on the hub that the policy forbids, saying why."""
    assert member.id is not None
    policy, standing = current_policy(session), standing_of(session, member.id, now or utcnow())
    if standing.overdue:
        count = len(standing.overdue)
        raise BorrowingPaused(
            f"Member {member.number} has {count} tool{'s' if count > 1 else ''} out past "
            f"{'their' if count > 1 else 'its'} due date ({', '.join(standing.overdue)}): "
            "borrowing is paused until they are back.",
            field="member_id",
        )
    if policy.max_loans is not None and standing.out >= policy.max_loans:
        raise LoanLimitReached(
            f"Member {member.number} has {standing.out} tools out; the limit is "
            f"{policy.max_loans} at once.",
            field="member_id",
        )


# --- setting (stewards) -------------------------------------------------------------------


def set_policy(session: Session, actor: Actor, **changes: Any) -> BorrowingPolicy:
    """Change the named settings of the policy (``max_loans``, ``overdue_grace_days``,
    ``max_holds``, ``hold_hours``); stewards only, audited. Every value is checked before any
    is written."""
    require_role(actor, Role.STEWARD, "set the borrowing policy")
    checked = {name: _checked_setting(name, value) for name, value in changes.items()}
    policy = session.get(BorrowingPolicy, 1)
    if policy is None:
        policy = BorrowingPolicy()
        session.add(policy)
        session.flush()
    with audit.audited(session, actor, POLICY_SET, policy, "policy"):
        for name, value in checked.items():
            setattr(policy, name, value)
        session.add(policy)
    return policy


def _checked_setting(name: str, value: Any) -> int | None:
    if name not in BOUNDS:
        raise InvalidInput(
            f"{name!r} is not a borrowing setting; the settings are {', '.join(BOUNDS)}.",
            field=name,
        )
    if value is None or value == "":
        if name in NULLABLE:
            return None
        raise InvalidInput(f"{name}: a number is needed.", field=name)
    return _bounded(name, value, *BOUNDS[name])


def _bounded(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise InvalidInput(
            f"{name}: {value!r} must be a whole number from {low} to {high}.", field=name
        )
    return number


def set_loan_length(
    session: Session,
    actor: Actor,
    *,
    days: int | None,
    tool_code: str | None = None,
    category: str | None = None,
) -> LoanLength | None:
    """Set how many days loans of one tool, or of a category, last (``days`` None: remove
    the rule); stewards only, audited. Return the rule (None once removed)."""
    require_role(actor, Role.STEWARD, "set loan lengths")
    if (tool_code is None) == (category is None):
        raise InvalidInput("Name a tool or a category, not both.", field="tool_code")
    key: dict[str, Any]
    if tool_code is not None:
        tool = tool_by_code(session, tool_code)
        key, target = {"tool_id": tool.id}, f"tool:{tool.code}"
    else:
        name = (category or "").strip()
        if not name or len(name) > 60:
            raise InvalidInput("category: 1 to 60 characters are needed.", field="category")
        key, target = {"category": name}, f"category:{name}"
    checked = None if days is None else _bounded("days", days, *LOAN_DAYS)
    rule = session.exec(select(LoanLength).filter_by(**key)).first()
    if rule is None and checked is None:
        raise NotFound(f"No loan length is set for {target}.", field="days")
    rule = rule or LoanLength(**key, days=checked)
    with audit.audited(session, actor, LOAN_LENGTH_SET, rule, f"policy:{target}") as notes:
        if checked is None:
            notes["removed"] = True
        rule.days = checked if checked is not None else rule.days
        session.add(rule)
    if checked is None:
        session.delete(rule)
        session.flush()
        return None
    return rule
