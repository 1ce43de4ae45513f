"""hub.wire: each hub parser accepts exactly what the wire accepts, and refuses the rest.

The oracle is the wire itself: a topic built with ``broker.topics`` and a message built with
``broker.messages``, as a kiosk would receive it. The hub may only tidy what people type
(surrounding spaces; the case of a code's ASCII letters) before asking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from broker import messages as wire
from broker import topics
from hub import wire as rules
from hub.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Characters near the rules' edges: the allowed ones, their neighbours, case, separators,
# control characters, and Unicode that changes length or meaning under case mapping.
EDGY = "aAzZ09-_ .:/+#%\t\n\r\x00\x1f\x7fßﬀİıK²é\u00a0\u2028"


def texts(pattern: str) -> st.SearchStrategy[str]:
    """Strings that match ``pattern``, near misses, and anything at all, some padded."""
    core = st.one_of(
        st.from_regex(pattern, fullmatch=True),
        st.text(alphabet=EDGY, max_size=40),
        st.text(max_size=40),
    )
    padding = st.sampled_from(["", " ", "\t", "\n", "\u00a0"])
    return st.tuples(padding, core, padding).map("".join)


def outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    """Return (accepted, value) of ``call``; a refusal is any ValueError."""
    try:
        return True, call()
    except ValueError:  # InvalidInput, pydantic's ValidationError, topics' ValueError
        return False, None


def ascii_case(text: str, change: Callable[[str], str]) -> str:
    return "".join(change(c) if c.isascii() else c for c in text.strip())


def config(*, kiosk_id: str = "shed-1", site: str = "main") -> wire.KioskConfig:
    return wire.KioskConfig.build(
        version=1, generated_at=NOW, site=site, kiosk_id=kiosk_id, name="Shed", lockers={}
    )


def member(**fields: Any) -> wire.AllowListMember:
    base: dict[str, Any] = {
        "member_id": 1,
        "number": "1001",
        "name": "Ada",
        "status": "active",
        "roles": ["member"],
    }
    return wire.AllowListMember(**(base | fields))


def wire_kiosk_id(text: str) -> str:
    topics.kiosk_topic("main", text, topics.Channel.EVENTS)
    return config(kiosk_id=text).kiosk_id


def wire_site_id(text: str) -> str:
    topics.kiosk_topic(text, "shed-1", topics.Channel.EVENTS)
    return config(site=text).site


def wire_tool_code(text: str) -> str:
    return wire.LoanOut(card_uid="DEADBEEF", tool_code=text, locker_slot=1).tool_code


def assert_same(hub: tuple[bool, Any], wire_side: tuple[bool, Any]) -> None:
    assert hub == wire_side


@given(texts(topics.KIOSK_ID_PATTERN))
@example("hub")
@example(" shed-1 ")
def test_kiosk_ids(text):
    assert_same(
        outcome(lambda: rules.parse_kiosk_id(text)), outcome(lambda: wire_kiosk_id(text.strip()))
    )


@given(texts(topics.SITE_ID_PATTERN))
@example("hub")
def test_site_ids(text):
    assert_same(
        outcome(lambda: rules.parse_site_id(text)), outcome(lambda: wire_site_id(text.strip()))
    )


@given(texts(wire.TOOL_CODE_PATTERN))
@example("tent-1")
@example("ﬀ")  # "FF" under Unicode upper-casing: must stay refused
@example("ß")
def test_tool_codes(text):
    tidy = ascii_case(text, str.upper)
    assert_same(outcome(lambda: rules.parse_tool_code(text)), outcome(lambda: wire_tool_code(tidy)))


@given(texts(wire.TRAINING_CODE_PATTERN))
@example("LASER")
@example("İ")  # lower-cases to two characters
def test_training_codes(text):
    tidy = ascii_case(text, str.lower)
    hub = outcome(lambda: rules.parse_training_code(text))
    on_wire = outcome(lambda: next(iter(member(trainings={tidy: None}).trainings)))
    assert_same(hub, on_wire)


@given(texts(wire.MEMBER_NUMBER_PATTERN))
@example("²")  # a digit to str.isdigit, not to the wire
def test_member_numbers(text):
    hub = outcome(lambda: rules.parse_member_number(text))
    assert_same(hub, outcome(lambda: member(number=text.strip()).number))


@given(st.one_of(texts(r"[A-Za-z ]{1,130}"), st.text(min_size=110, max_size=130)))
@example("a\x00b")
@example("   ")
def test_names(text):
    hub = outcome(lambda: rules.parse_name(text))
    assert_same(hub, outcome(lambda: member(name=text.strip()).name))


@given(st.one_of(st.integers(-5, 1_005), st.booleans(), st.floats(0, 10), st.text(max_size=3)))
def test_locker_slots(value):
    hub = outcome(lambda: rules.parse_locker_slot(value))
    on_wire = outcome(
        lambda: wire.LoanOut(card_uid="DEADBEEF", tool_code="X", locker_slot=value).locker_slot
    )
    assert_same(hub, on_wire)


@given(st.one_of(st.integers(-5, 400), st.booleans(), st.floats(0, 10), st.text(max_size=3)))
def test_loan_days(value):
    hub = outcome(lambda: rules.parse_loan_days(value))
    on_wire = outcome(lambda: wire.LockerTool(tool_code="X", loan_days=value).loan_days)
    assert_same(hub, on_wire)


@given(texts(r"[0-9A-Fa-f:\- ]{8,20}"))
def test_card_uids_the_hub_stores_are_the_ones_the_wire_carries(text):
    accepted, uid = outcome(lambda: rules.parse_uid(text))
    if accepted:
        assert wire.CardParams(card_uid=uid).card_uid == uid
    on_wire, _ = outcome(lambda: wire.CardParams(card_uid=text))
    if on_wire:  # the wire's own spelling is taken as it is
        assert (accepted, uid) == (True, text)


@pytest.mark.parametrize(
    "parse, text, field, says",
    [
        (rules.parse_kiosk_id, "hub", "kiosk_id", "Kiosk id 'hub' is reserved"),
        (rules.parse_site_id, "hub", "site", "Site id 'hub' is reserved"),
        (rules.parse_tool_code, "TENT 1", "code", "must be 1-24 letters, digits or '-'"),
        (rules.parse_name, "a" * 121, "name", "name is 121 characters; the limit is 120"),
        (rules.parse_name, "Ada\x00", "name", "must not contain control characters"),
        (rules.parse_member_number, "12a", "number", "must be 1 to 10 digits"),
    ],
)
def test_each_refusal_names_its_field_and_rule(parse, text, field, says):
    with pytest.raises(InvalidInput, match=says) as refused:
        parse(text)
    assert refused.value.field == field
