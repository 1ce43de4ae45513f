"""Answer what a kiosk cannot decide alone: a member's status, a tool's status, a balance;
and say where the answer goes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from broker import messages as wire
from broker.inbound import Undecodable
from broker.topics import Channel, KioskTopic
from hub.errors import DomainError, RuleViolation
from hub.infra.clock import as_utc
from hub.infra.db import reading
from hub.inventory import sites
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.loans.records import open_loan
from hub.members.roster import member_for_card
from hub.timebank import ledger
from hub.worker import trust

log = logging.getLogger("commonshed.ingest")

# What a request is answered with: the response's data, in its documented shape per kind
# (broker.messages.RESPONSE_DATA).
Answer = wire.MemberStatusData | wire.ToolStatusData | wire.BalanceData


def answer(
    engine: Engine,
    request: wire.Request,
    *,
    allowlist: wire.AllowList | None = None,
    where: KioskTopic | None = None,
) -> wire.Response:
    """Return the response to ``request`` asked on ``where``; a refusal (a kiosk the hub has
    not registered, or one asking under another site) becomes a response that is not ok.

    ``allowlist`` is the one published to the asking kiosk's site: a member it leaves out is
    looked up, and refused if that site does not allow them (``hub.inventory.sites``).
    """
    try:
        if where is not None:
            _require_known_kiosk(engine, where)
        data = _member_from_allowlist(request, allowlist)
        if data is None:
            with reading(engine) as session:
                data = ANSWER[request.kind](session, request.params)
                if where is not None and request.kind == "member_status":
                    _require_allowed_at(session, where.site, request.params.card_uid)
        return wire.Response(
            request_id=request.request_id, ok=True, data=data.model_dump(mode="json")
        )
    except DomainError as refused:
        code = "not_found" if isinstance(refused, LookupError) else "refused"
        return _error(request.request_id, code, refused.message)
    except SQLAlchemyError:  # the database is down or failing: say so, the kiosk asks again
        log.exception("could not answer %s %s", request.kind, request.request_id)
        return _error(request.request_id, "internal_error", "The hub could not answer; ask again.")


def _error(request_id: str, code: str, message: str) -> wire.Response:
    return wire.Response(
        request_id=request_id,
        ok=False,
        error=wire.ResponseError(code=code, message=message[: wire.REASON_MAX]),
    )


def refuse_malformed(request: Undecodable) -> wire.Response | None:
    """Return the error response to a request that did not decode, if its id can be read
    (``malformed_request``, the reason naming the field); None if there is no one to tell."""
    if request.request_id is None:
        return None
    return _error(request.request_id, "malformed_request", request.reason)


def _require_known_kiosk(engine: Engine, where: KioskTopic) -> None:
    with reading(engine) as session:
        refusal = trust.request_refusal(session, where)
    if refusal is not None:
        raise RuleViolation(refusal, field="kiosk_id")


def _require_allowed_at(session: Session, site: str, card_uid: str) -> None:
    member = member_for_card(session, card_uid)
    if not sites.may_borrow_at(session, site, member):
        raise RuleViolation(
            f"Member {member.number} is not allowed to borrow at site {site}: "
            "a steward can allow them there.",
            field="card_uid",
        )


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
    return wire.MemberStatusData.model_validate(
        {
            "number": number,
            "name": name,
            "status": str(status),
            "roles": list(roles),
            "allowlist_version": version,
        }
    )


def _tool_status(session: Session, params: wire.ToolParams) -> Answer:
    tool = tool_by_code(session, params.tool_code)
    loan = open_loan(session, tool.id)
    return wire.ToolStatusData(
        tool_code=tool.code,
        status=ToolStatus(tool.status).value,
        reason=tool.status_reason,
        due_at=as_utc(loan.due_at) if loan else None,
    )


def _balance(session: Session, params: wire.CardParams) -> Answer:
    member = member_for_card(session, params.card_uid)
    hours = ledger.member_balance(session, member.id)
    return wire.BalanceData(number=member.number, hours=f"{hours:.2f}")


# Each kind reads its own params model (the wire decoded it by kind): Any stands for that union.
ANSWER: dict[str, Callable[[Session, Any], Answer]] = {
    "member_status": _member_status,
    "tool_status": _tool_status,
    "balance": _balance,
}
