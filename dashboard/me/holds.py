"""My holds: where I stand in each queue, a tool kept for me and where, and putting my name
down for a tool that is out.

The hub's holds service (``hub.loans.holds``) decides everything and writes the audit entry,
acting as the signed-in member; this page only finds the tool by code or name, and carries a
one-time key so that a double tap places one hold.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.me.access import me, me_required, now
from dashboard.times import local
from hub.errors import DomainError, InvalidInput, NotFound
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.loans import holds
from hub.loans.holds import Hold, HoldStatus, HoldView
from hub.loans.records import Loan
from hub.queries.tools import home_of, tool_board

bp = Blueprint("me_holds", __name__, url_prefix="/me")
HOLD_ID = "<int(min=1, max=2147483647):hold_id>"
PLACED_KEYS = "me_hold_keys"  # the one-time keys of forms that placed a hold, newest last
KEYS_KEPT = 20
ENDED_SHOWN = 5
OUT_SHOWN = 8
ENDED_WORDS = {
    HoldStatus.COLLECTED: "You borrowed it",
    HoldStatus.LAPSED: "Not collected in time",
    HoldStatus.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class MyHold:
    """One of my holds as the page shows it: the queue view, and where a kept tool waits."""

    view: HoldView
    kiosk_id: str | None
    slot: int | None


@bp.app_context_processor
def holds_helpers() -> dict[str, Any]:
    """Give templates ``my_live_holds()``: how many holds the signed-in member has."""
    return {"my_live_holds": _live_count}


def _live_count() -> int:
    with reading() as db:
        return len(holds.holds_of_member(db, me().id or 0))


@bp.get("/holds")
@me_required
def my_holds() -> ResponseReturnValue:
    """Show my holds (waiting, kept for me, recently ended) and the form to place one."""
    return _page({"tool": request.args.get("tool", ""), "key": _new_key()})


@bp.post("/holds")
@me_required
def place() -> ResponseReturnValue:
    """Put my name down for a tool, named by code or name (a second submit of the same form
    places nothing more)."""
    typed = {"tool": request.form.get("tool", ""), "key": request.form.get("key", "")}
    if typed["key"] and typed["key"] in session.get(PLACED_KEYS, []):
        return redirect(url_for("me_holds.my_holds"))
    try:
        with transaction() as db:
            tool = _tool_named(db, typed["tool"])
            member_id = me().id or 0
            hold = holds.place_hold(db, me(), member_id=member_id, tool_code=tool.code, now=now())
            said = _placed_words(db, hold, tool)
    except DomainError as refused:
        return _page({**typed, "key": _new_key()}, refused, status_of(type(refused)))
    _remember(typed["key"])
    flash(said, "ok")
    return redirect(url_for("me_holds.my_holds"))


@bp.post(f"/holds/{HOLD_ID}/cancel")
@me_required
def cancel(hold_id: int) -> ResponseReturnValue:
    """Cancel one of my holds; a tool kept for me goes to the next in line. Cancelling a
    hold already cancelled (a double tap) changes nothing."""
    try:
        with transaction() as db:
            hold = _mine(db, hold_id)
            code = get_tool(db, hold.tool_id).code
            if hold.status != HoldStatus.CANCELLED:
                holds.cancel_hold(db, me(), hold_id, now=now())
    except DomainError as refused:
        return _page({"tool": "", "key": _new_key()}, refused, status_of(type(refused)))
    flash(f"Your hold on {code} is cancelled.", "ok")
    return redirect(url_for("me_holds.my_holds"))


# --- reading ------------------------------------------------------------------------------


def _page(
    typed: dict[str, str], refused: DomainError | None = None, status: int = 200
) -> ResponseReturnValue:
    with reading() as db:
        member_id = me().id or 0
        live = [_with_home(db, view) for view in _live_views(db, member_id)]
        ended = holds.views_of(db, _ended(db, member_id))
        out = _tools_out(db, member_id, {row.view.hold.tool_id for row in live})
    page = render_template(
        "me/holds.html",
        live=live,
        ended=ended,
        ended_words=ENDED_WORDS,
        out=out,
        typed=typed,
        error=refused.message if refused else None,
        field=_form_field(refused),
        suspended=not me().is_active,
    )
    return page, status


def _live_views(db: Session, member_id: int) -> list[HoldView]:
    return holds.views_of(db, holds.holds_of_member(db, member_id))


def _with_home(db: Session, view: HoldView) -> MyHold:
    kiosk_id, slot = home_of(db, get_tool(db, view.hold.tool_id))
    return MyHold(view, kiosk_id, slot)


def _ended(db: Session, member_id: int) -> list[Hold]:
    query = (
        select(Hold)
        .where(Hold.member_id == member_id, col(Hold.status).not_in(holds.LIVE))
        .order_by(col(Hold.ended_at).desc(), col(Hold.id).desc())
        .limit(ENDED_SHOWN)
    )
    return list(db.exec(query))


def _tools_out(db: Session, member_id: int, held: set[int]) -> list[Tool]:
    """Return a few tools out on loan to others that I do not queue for yet."""
    mine = set(
        db.exec(
            select(Loan.tool_id).where(Loan.member_id == member_id, col(Loan.returned_at).is_(None))
        )
    )
    out = [
        row.tool
        for row in tool_board(db)
        if row.tool.status == ToolStatus.ON_LOAN and row.tool.id not in held | mine
    ]
    return out[:OUT_SHOWN]


# --- writing ------------------------------------------------------------------------------


def _tool_named(db: Session, typed: str) -> Tool:
    """Return the tool whose code, or else whose name, is ``typed`` (case does not matter)."""
    wanted = " ".join(typed.split()).casefold()
    if not wanted:
        raise InvalidInput("Type the code or name of a tool, such as DRILL-1.", field="tool")
    tools = [row.tool for row in tool_board(db)]
    by_code = [tool for tool in tools if tool.code.casefold() == wanted]
    by_name = [tool for tool in tools if " ".join(tool.name.split()).casefold() == wanted]
    found = by_code or by_name
    if not found:
        raise NotFound(f"No tool has the code or name “{typed.strip()}”.", field="tool")
    if len(found) > 1:
        codes = ", ".join(tool.code for tool in found)
        raise InvalidInput(
            f"Several tools are called “{typed.strip()}”; choose one by code ({codes}).",
            field="tool",
        )
    return found[0]


def _placed_words(db: Session, hold: Hold, tool: Tool) -> str:
    if hold.status == HoldStatus.READY:
        kiosk_id, slot = home_of(db, tool)
        where = f" at {kiosk_id} locker {slot}" if kiosk_id else ""
        return f"{tool.name} is in: kept for you until {local(hold.expires_at)}{where}."
    place = holds.views_of(db, [hold])[0].place
    return f"You are number {place} in line for the {tool.name} ({tool.code})."


def _mine(db: Session, hold_id: int) -> Hold:
    hold = holds.get_hold(db, hold_id)
    if hold.member_id != me().id:
        raise NotFound(f"Hold {hold_id} is not one of yours.", field="hold_id")
    return hold


def _form_field(refused: DomainError | None) -> str | None:
    """Return the form field a refusal is about: the service's ``tool_code`` is our ``tool``."""
    if refused is None:
        return None
    return "tool" if refused.field in ("tool", "tool_code") else refused.field


def _new_key() -> str:
    return secrets.token_urlsafe(16)


def _remember(key: str) -> None:
    if key:
        session[PLACED_KEYS] = [*session.get(PLACED_KEYS, []), key][-KEYS_KEPT:]
