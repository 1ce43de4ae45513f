"""Answer what a kiosk cannot decide alone: a member's status, a tool's status, a balance;
and say where the answer goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine
from sqlmodel import Session

from broker import messages as wire
from broker.topics import Channel, KioskTopic
from hub.errors import DomainError, RuleViolation
from hub.infra.db import reading
from hub.inventory.registry import tool_by_code
from hub.loans.records import open_loan
from hub.members.roster import member_for_card
from hub.timebank import ledger
from hub.worker import trust

# What a request is answered with: the response's data, as JSON values.
Answer = dict[str, object]


def answer(
    engine: Engine,
    request: wire.Request,
    *,
    allowlist: wire.AllowList | None = None,
    where: KioskTopic | None = None,
) -> wire.Response:
    """Return the response to ``request`` asked on ``where``; a refusal (a kiosk the hub has
    not registered, or one asking under another site) becomes a response that is not ok."""
    try:
        if where is not None:
            _require_known_kiosk(engine, where)
        data = _member_from_allowlist(request, allowlist)
        if data is None:
            with reading(engine) as session:
                data = ANSWER[request.kind](session, request.params)
        return wire.Response(request_id=request.request_id, ok=True, data=data)
    except DomainError as refused:
        code = "not_found" if isinstance(refused, LookupError) else "refused"
        return wire.Response(
            request_id=request.request_id,
            ok=False,
            error=wire.ResponseError(code=code, message=refused.message[:500]),
        )


def _require_known_kiosk(engine: Engine, where: KioskTopic) -> None:
    with reading(engine) as session:
        refusal = trust.request_refusal(session, where)
    if refusal is not None:
        raise RuleViolation(refusal, field="kiosk_id")


def response_route(where: KioskTopic, asked: Properties | None) -> tuple[str, Properties]:
    """Return where to answer a request that came from ``where``: the request's v5 response
    topic if it lies in the asking kiosk's own subtree (never let a kiosk aim the hub at another
    kiosk), else its own; and the reply's properties, the correlation data echoed."""
    own = where.topic_of(Channel.RESPONSES)
    wanted = getattr(asked, "ResponseTopic", None)
    topic = wanted if wanted and (wanted == own or wanted.startswith(own + "/")) else own
    props = Properties(PacketTypes.PUBLISH)
    if (correlation := getattr(asked, "CorrelationData", None)) is not None:
        props.CorrelationData = correlation
    return topic, props


def _member_from_allowlist(
    request: wire.Request, allowlist: wire.AllowList | None
) -> Answer | None:
    """Answer a member-status question from memory when the published allow-list has it."""
    if request.kind != "member_status" or allowlist is None:
        return None
    entry = allowlist.entries.get(request.params.card_uid)
    return (
        None
        if entry is None
        else _member_data(entry.number, entry.name, entry.status, entry.roles, allowlist.version)
    )


def _member_status(session: Session, params: wire.CardParams) -> Answer:
    member = member_for_card(session, params.card_uid)
    return _member_data(
        member.number, member.name, member.status, sorted(r.value for r in member.role_set), None
    )


def _member_data(
    number: str, name: str, status: str, roles: list[str], version: int | None
) -> Answer:
    return {
        "number": number,
        "name": name,
        "status": status,
        "roles": list(roles),
        "allowlist_version": version,
    }


def _tool_status(session: Session, params: wire.ToolParams) -> Answer:
    tool = tool_by_code(session, params.tool_code)
    loan = open_loan(session, tool.id)
    return {
        "tool_code": tool.code,
        "status": tool.status,
        "reason": tool.status_reason,
        "due_at": loan.due_at.isoformat() if loan else None,
    }


def _balance(session: Session, params: wire.CardParams) -> Answer:
    member = member_for_card(session, params.card_uid)
    return {"number": member.number, "hours": str(ledger.member_balance(session, member.id))}


# Each kind reads its own params model (the wire decoded it by kind): Any stands for that union.
ANSWER: dict[str, Callable[[Session, Any], Answer]] = {
    "member_status": _member_status,
    "tool_status": _tool_status,
    "balance": _balance,
}
