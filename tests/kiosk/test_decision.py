"""The decision table: every refusal reason of the protocol, and the cases that pass."""

from __future__ import annotations

import typing
from datetime import timedelta

import pytest

from broker import messages as wire
from kiosk import decision
from kiosk.decision import Refusal
from kiosk.lockers import LockerState
from tests.kiosk.builders import ADA, NOW, SAM, STRANGER, SUE, TOM, an_allowlist

ALLOWLIST = an_allowlist()
DRILL = LockerState(1, "DRILL-1", taken=False, out_of_service=False)
PRESS = LockerState(3, "PRESS-1", taken=False, out_of_service=False)
# DRILL-1 kept for Sam (member 7) until 18:00 UTC; at most 2 tools out; no overdue grace.
KEPT_UNTIL = NOW.replace(hour=18, minute=0)
HOLDS = ALLOWLIST.model_copy(
    update={
        "reservations": {"DRILL-1": wire.Reservation(member_number="7", until=KEPT_UNTIL)},
        "limits": wire.BorrowingLimits(max_loans=2, overdue_grace_days=0),
        "entries": {
            **ALLOWLIST.entries,
            ADA: ALLOWLIST.entries[ADA].model_copy(
                update={
                    "loans": ["LAMP-1", "SAND-2"],
                    "loans_due": {"LAMP-1": NOW + timedelta(days=1), "SAND-2": NOW},
                }
            ),
            TOM: ALLOWLIST.entries[TOM].model_copy(
                update={
                    "loans": ["LAMP-3"],
                    "loans_due": {"LAMP-3": NOW - timedelta(hours=1)},
                }
            ),
        },
    }
)


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
    (SAM, DRILL, HOLDS, None),  # kept for Sam: his card opens it
    (ADA, PRESS, HOLDS, "loan_limit"),  # two out (one due this very minute: not yet late)
    (TOM, DRILL, HOLDS, "tool_reserved"),
    (TOM, LockerState(2, "LAMP-9", False, False), HOLDS, "borrowing_paused"),
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


def test_a_reserved_locker_says_until_when_in_the_sites_time():
    tom = HOLDS.entries[TOM].model_copy(update={"loans": [], "loans_due": None})
    london = decision.site_zone("Europe/London")  # BST in May: 18:00 UTC is 19:00 there
    refusal = decision.may_borrow(HOLDS, tom, DRILL, NOW, london)
    assert refusal.message == "Reserved for a member until 19:00."
    assert refusal.tool_code == "DRILL-1"


def test_a_reservation_past_its_time_binds_no_more():
    tom = HOLDS.entries[TOM].model_copy(update={"loans": [], "loans_due": None})
    assert decision.may_borrow(HOLDS, tom, DRILL, KEPT_UNTIL) is None


def test_the_policy_says_why_in_plain_words():
    paused = decision.may_borrow(HOLDS, HOLDS.entries[TOM], PRESS, NOW)
    assert paused.message.startswith("You have 1 tool out past its due date.")
    limit = decision.may_borrow(HOLDS, HOLDS.entries[ADA], PRESS, NOW)
    assert limit.message.startswith("You have 2 tools out; the limit is 2 at once.")


def test_another_day_is_named():
    later = KEPT_UNTIL + timedelta(days=1)
    assert decision.local_time(later, NOW, decision.site_zone("UTC")) == "Sun 18 May 18:00"
    assert decision.site_zone("Mars/Olympus") is None
