"""What a batch of events will look up, read at once: the cards they name, their holders, the
tools and the lockers, in four queries instead of one or two per event.

``hub.infra.rows.find_unique`` (behind ``card_by_uid`` and ``tool_by_code``) and
``registry.find_locker`` then find them in the transaction's cache, and the hub's sessions keep
the members in their identity map.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from broker import messages as wire
from hub.infra.rows import load_unique
from hub.inventory.registry import Tool, load_lockers
from hub.members.roster import Card, Member


def read_ahead(session: Session, events: Iterable[wire.Event]) -> None:
    """Load the cards, members, tools and lockers ``events`` name into the session, in four
    queries."""
    cards: set[str] = set()
    tools: set[str] = set()
    lockers: set[tuple[str, int]] = set()
    for event in events:
        body = event.body
        if (card := getattr(body, "card_uid", None)) is not None:
            cards.add(card)
        if (code := getattr(body, "tool_code", None)) is not None:
            tools.add(code)
        if (slot := getattr(body, "locker_slot", None)) is not None:
            lockers.add((event.kiosk_id, slot))
    if lockers:
        load_lockers(session, lockers)
    if tools:
        load_unique(session, Tool, Tool.code, tools)
    if cards:
        found = load_unique(session, Card, Card.uid, cards)
        member_ids = {card.member_id for card in found}
        if member_ids:
            session.exec(select(Member).where(Member.id.in_(member_ids))).all()
