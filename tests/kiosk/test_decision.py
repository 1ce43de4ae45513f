"""The decision table: every refusal reason of the protocol, and the cases that pass."""

from __future__ import annotations

import typing

import pytest

from broker import messages as wire
from kiosk import decision
from kiosk.decision import Refusal
from kiosk.lockers import LockerState
from tests.kiosk.builders import ADA, NOW, SAM, STRANGER, SUE, TOM, an_allowlist

ALLOWLIST = an_allowlist()
DRILL = LockerState(1, "DRILL-1", taken=False, out_of_service=False)
PRESS = LockerState(3, "PRESS-1", taken=False, out_of_service=False)


def borrow(card: str, locker: LockerState, allowlist=ALLOWLIST):
    """Return the reason the card may not borrow from the locker, or None."""
    member = decision.identify(allowlist, card)
    if isinstance(member, Refusal):
        return member.reason
    refusal = decision.may_borrow(allowlist, member, locker, NOW)
    return refusal and refusal.reason


CASES = [
    (ADA, DRILL, ALLOWLIST, None),
    (ADA, PRESS, ALLOWLIST, None),  # trained, not expired
    (STRANGER, DRILL, ALLOWLIST, "unknown_card"),
    (ADA, DRILL, None, "allowlist_missing"),
    (SUE, DRILL, ALLOWLIST, "member_suspended"),
    (SAM, PRESS, ALLOWLIST, "training_required"),
    (TOM, PRESS, ALLOWLIST, "training_expired"),
    (ADA, LockerState(2, "SAW-2", False, out_of_service=True), ALLOWLIST, "tool_out_of_service"),
    (ADA, LockerState(1, "DRILL-1", taken=True, out_of_service=False), ALLOWLIST, "locker_empty"),
    (ADA, LockerState(4, None, False, False), ALLOWLIST, "locker_empty"),
]


@pytest.mark.parametrize(("card", "locker", "allowlist", "expected"), CASES)
def test_borrowing(card, locker, allowlist, expected):
    assert borrow(card, locker, allowlist) == expected


def test_stewards_and_admins_only_for_steward_mode():
    assert decision.require_steward(ALLOWLIST.entries[SAM]) is None
    assert decision.require_steward(ALLOWLIST.entries[ADA]).reason == "steward_required"
    admin = ALLOWLIST.entries[ADA].model_copy(update={"roles": ["admin"]})
    assert decision.is_steward(admin)


def test_a_training_that_never_expires_is_good_forever():
    forever = wire.AllowListMember(
        member_id=5,
        number="5",
        name="Eve",
        status="active",
        roles=["member"],
        trainings={"drill-press": None},
    )
    assert decision.may_borrow(ALLOWLIST, forever, PRESS, NOW) is None


def test_every_refusal_reason_of_the_protocol_is_covered_and_says_something():
    reasons = set(typing.get_args(wire.RefusalReason))
    seen = {expected for *_, expected in CASES if expected}
    assert reasons - seen == {"steward_required"}  # covered by its own test above
    expired = decision.may_borrow(ALLOWLIST, ALLOWLIST.entries[TOM], PRESS, NOW)
    assert "expired on 16 May 2025" in expired.message
