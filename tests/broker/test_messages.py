"""broker.messages: every message round-trips; every malformed payload is MalformedMessage."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from broker.examples import EXAMPLES
from broker.messages import (
    DECODERS,
    EVENT_CLASSES,
    EVENT_TYPES,
    MAX_ALLOWLIST_BYTES,
    MAX_PAYLOAD_BYTES,
    REQUEST_CLASSES,
    AllowList,
    AllowListMember,
    Availability,
    CardRefused,
    DoorChange,
    EventAck,
    EventAcks,
    KioskConfig,
    LoanOut,
    LoanOutEvent,
    LockerTool,
    MaintenanceOpened,
    MalformedMessage,
    RepairLogged,
    Response,
    ToolReturn,
    acks_in,
    content_hash,
    decode_allowlist,
    decode_availability,
    decode_config,
    decode_event,
    decode_response,
    encode,
    encode_acks,
    event_id_of,
    new_message_id,
    request_id_of,
)
from broker.topics import Channel

NOW = datetime(2025, 5, 17, 9, 30, tzinfo=UTC)


def decoder_for(message):
    return DECODERS[message.channel]


def wire(message) -> dict:
    return json.loads(encode(message))


def envelope(**overrides) -> dict:
    fields = {"event_id": new_message_id(), "kiosk_id": "kiosk-a", "seq": 0, "kiosk_time": NOW}
    return fields | overrides


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_round_trips(name):
    message = EXAMPLES[name]
    decoded = decoder_for(message)(encode(message))
    assert decoded == message
    assert type(decoded) is type(message)
    assert encode(decoded) == encode(message)


def test_examples_cover_every_message_class():
    shown = {type(message) for message in EXAMPLES.values()}
    assert shown == {
        *EVENT_CLASSES,
        *REQUEST_CLASSES,
        Availability,
        EventAck,
        EventAcks,
        AllowList,
        KioskConfig,
        Response,
    }
    assert {message.channel for message in EXAMPLES.values()} == set(Channel)
    assert {m.type for m in EXAMPLES.values() if type(m) in EVENT_CLASSES} == set(EVENT_TYPES)


uids = st.binary(min_size=4, max_size=4).map(lambda b: b.hex().upper()) | st.binary(
    min_size=7, max_size=7
).map(lambda b: b.hex().upper())
tool_codes = st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{0,23}\Z")
slots = st.integers(1, 999)
notes = st.text(min_size=1, max_size=500).filter(
    lambda s: s.strip() and not any(ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 for c in s)
)
hours = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(24), places=2)
times = st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(UTC))
bodies = {
    "loan_out": st.builds(LoanOut, card_uid=uids, tool_code=tool_codes, locker_slot=slots),
    "tool_return": st.builds(
        ToolReturn,
        card_uid=uids,
        tool_code=tool_codes,
        locker_slot=slots,
        condition=st.just("needs_repair"),
        note=notes,
    )
    | st.builds(
        ToolReturn,
        card_uid=uids,
        tool_code=tool_codes,
        locker_slot=slots,
        condition=st.just("ok"),
        note=st.none() | notes,
    ),
    "repair_logged": st.builds(
        RepairLogged, card_uid=uids, tool_code=tool_codes, hours=hours, note=notes
    ),
    "maintenance_opened": st.builds(
        MaintenanceOpened, card_uid=uids, tool_code=tool_codes, note=notes
    ),
    "card_refused": st.builds(
        CardRefused,
        card_uid=uids,
        reason=st.sampled_from(["unknown_card", "locker_empty"]),
        tool_code=st.none() | tool_codes,
    ),
}
door = st.builds(DoorChange, locker_slot=slots)


@st.composite
def events(draw):
    cls = draw(st.sampled_from(EVENT_CLASSES))
    kind = cls.model_fields["type"].default
    body = draw(bodies.get(kind, door))
    return cls(
        event_id=draw(st.uuids().map(str)),
        kiosk_id=draw(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,31}\Z")),
        seq=draw(st.integers(0, 2**63 - 1)),
        kiosk_time=draw(times),
        body=body,
    )


@given(events())
def test_any_valid_event_round_trips(event):
    assert decode_event(encode(event)) == event


# --- malformed payloads --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
all_decoders = st.sampled_from(sorted(DECODERS.values(), key=lambda f: f.__name__))


def paths_of(data, prefix=()):
    """Yield the path of every value inside a JSON object."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from paths_of(value, (*prefix, key))


def replace_at(data, path, value):
    copy = json.loads(json.dumps(data))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


_DELETE = object()


def decodes_or_refuses(decoder, raw: bytes):
    """Decode ``raw``: it either is a valid message (that round-trips) or MalformedMessage."""
    try:
        message = decoder(raw)
    except MalformedMessage as error:
        assert str(error)
        return None
    assert decoder(encode(message)) == message
    return message


@settings(max_examples=300)
@given(all_decoders, st.binary(max_size=300))
def test_arbitrary_bytes_are_refused(decoder, raw):
    decodes_or_refuses(decoder, raw)


@settings(max_examples=300)
@given(all_decoders, json_values)
def test_arbitrary_json_is_refused(decoder, value):
    assert decodes_or_refuses(decoder, json.dumps(value).encode()) is None


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(EXAMPLES)), st.data(), json_values)
def test_a_field_set_to_any_json_value_decodes_or_is_refused(name, data, value):
    message = EXAMPLES[name]
    path = data.draw(st.sampled_from(list(paths_of(wire(message)))))
    mutated = replace_at(wire(message), path, value)
    decodes_or_refuses(decoder_for(message), json.dumps(mutated).encode())


@settings(max_examples=200)
@given(st.sampled_from(sorted(EXAMPLES)), st.data())
def test_a_missing_field_decodes_or_is_refused(name, data):
    message = EXAMPLES[name]
    path = data.draw(st.sampled_from(list(paths_of(wire(message)))))
    mutated = replace_at(wire(message), path, _DELETE)
    decodes_or_refuses(decoder_for(message), json.dumps(mutated).encode())


@settings(max_examples=200)
@given(st.sampled_from(sorted(EXAMPLES)), st.text(min_size=1, max_size=20), json_values)
def test_an_unknown_top_level_field_is_refused(name, key, value):
    message = EXAMPLES[name]
    assume(key not in wire(message))
    with pytest.raises(MalformedMessage, match="unknown field"):
        decoder_for(message)(json.dumps(wire(message) | {key: value}).encode())


@settings(max_examples=100)
@given(st.sampled_from(sorted(EXAMPLES)), json_values.filter(lambda v: v != 1))
def test_any_other_schema_version_is_refused(name, version):
    message = EXAMPLES[name]
    with pytest.raises(MalformedMessage, match="^v: "):
        decoder_for(message)(json.dumps(wire(message) | {"v": version}).encode())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_missing_schema_version_is_refused(name):
    message = EXAMPLES[name]
    payload = wire(message)
    del payload["v"]
    with pytest.raises(MalformedMessage, match="v: missing schema version"):
        decoder_for(message)(json.dumps(payload).encode())


@settings(max_examples=100)
@given(st.sampled_from(sorted(EXAMPLES)), st.binary(min_size=1, max_size=4))
def test_invalid_utf8_is_refused(name, junk):
    raw = encode(EXAMPLES[name])
    broken = raw[:20] + b"\xff" + junk + raw[20:]
    with pytest.raises(MalformedMessage, match="not UTF-8"):
        decoder_for(EXAMPLES[name])(broken)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_huge_payloads_are_refused_before_parsing(name):
    message = EXAMPLES[name]
    limit = MAX_ALLOWLIST_BYTES if isinstance(message, AllowList) else MAX_PAYLOAD_BYTES
    with pytest.raises(MalformedMessage, match="the limit is"):
        decoder_for(message)(b" " * (limit + 1))


@settings(max_examples=100)
@given(
    st.sampled_from(["body.note", "body.tool_code", "body.card_uid", "kiosk_id"]),
    st.integers(501, 5000),
)
def test_huge_strings_are_refused(field, size):
    payload = wire(EXAMPLES["tool_return_needs_repair"])
    payload = replace_at(payload, tuple(field.split(".")), "A" * size)
    with pytest.raises(MalformedMessage, match=field.split(".")[-1]):
        decode_event(json.dumps(payload).encode())


def test_deeply_nested_json_is_refused():
    payload = wire(EXAMPLES["response_balance"])
    raw = json.dumps(payload).encode().replace(b'"6.50"', b"[" * 5000 + b"]" * 5000)
    with pytest.raises(MalformedMessage):
        DECODERS[Channel.RESPONSES](raw)


def test_payload_must_be_bytes():
    with pytest.raises(MalformedMessage, match="must be bytes"):
        decode_event(encode(EXAMPLES["loan_out"]).decode())


# --- the reasons name the field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"seq": -1}, "seq: Input should be greater than or equal to 0"),
        ({"seq": "1"}, "seq: Input should be a valid integer"),
        ({"seq": True}, "seq: Input should be a valid integer"),
        ({"kiosk_time": "2025-05-17T11:30:00+02:00"}, "kiosk_time: .*must be in UTC"),
        ({"kiosk_time": "2025-05-17T09:30:00"}, "kiosk_time: .*timezone"),
        ({"event_id": "6F1C2A3E-0000-4000-8000-000000000001"}, "event_id: String should match"),
        ({"type": "loan_in"}, "type: unknown 'loan_in'"),
        (
            {"body": {"card_uid": "04a1b2c3", "tool_code": "DRL-001", "locker_slot": 3}},
            "body.card_uid",
        ),
        (
            {"body": {"card_uid": "04A1B2C3", "tool_code": "DRL-001", "locker_slot": 0}},
            "body.locker_slot",
        ),
        (
            {"body": {"card_uid": "04A1B2C3", "tool_code": "DRL-001", "locker_slot": 3, "x": 1}},
            "body.x: unknown field",
        ),
    ],
)
def test_refusals_name_the_field(change, reason):
    with pytest.raises(MalformedMessage, match=reason):
        decode_event(json.dumps(wire(EXAMPLES["loan_out"]) | change).encode())


def test_needs_repair_requires_a_note():
    payload = wire(EXAMPLES["tool_return_needs_repair"])
    payload["body"]["note"] = None
    with pytest.raises(MalformedMessage, match="note is required"):
        decode_event(json.dumps(payload).encode())
    with pytest.raises(ValueError, match="note is required"):
        ToolReturn(card_uid="04A1B2C3", tool_code="A", locker_slot=1, condition="needs_repair")


@pytest.mark.parametrize("note", ["   ", "a\x00b", "\x1b[31m", ""])
def test_blank_or_control_character_notes_are_refused(note):
    payload = wire(EXAMPLES["maintenance_opened"])
    payload["body"]["note"] = note
    with pytest.raises(MalformedMessage, match="body.note"):
        decode_event(json.dumps(payload).encode())


def test_notes_may_have_lines_and_any_script():
    note = "Klinge stumpf.\nЛезвие тупое.\t刃が鈍い。 🪚"
    event = EXAMPLES["maintenance_opened"].model_copy(
        update={"body": MaintenanceOpened(card_uid="DEADBEEF", tool_code="DRL-001", note=note)}
    )
    assert decode_event(encode(event)).body.note == note


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1.5", True),
        (1.25, True),
        ("24", True),
        ("0.01", True),
        ("0", False),
        ("-1", False),
        ("24.01", False),
        ("1.255", False),
        ("NaN", False),
        ("Infinity", False),
        (True, False),
    ],
)
def test_repair_hours(value, ok):
    payload = wire(EXAMPLES["repair_logged"])
    payload["body"]["hours"] = value
    raw = json.dumps(payload).encode()
    if ok:
        assert decode_event(raw).body.hours == Decimal(str(value))
    else:
        with pytest.raises(MalformedMessage, match="body.hours"):
            decode_event(raw)


def test_python_construction_is_strict_too():
    with pytest.raises(ValueError):
        LoanOutEvent(
            **envelope(seq="1"), body=LoanOut(card_uid="DEADBEEF", tool_code="A", locker_slot=1)
        )
    paris = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValueError, match="UTC"):
        LoanOutEvent(
            **envelope(kiosk_time=paris),
            body=LoanOut(card_uid="DEADBEEF", tool_code="A", locker_slot=1),
        )


def test_decode_event_checks_the_kiosk_of_the_topic():
    raw = encode(EXAMPLES["loan_out"])
    assert decode_event(raw, kiosk_id="kiosk-a") == EXAMPLES["loan_out"]
    with pytest.raises(MalformedMessage, match="kiosk_id: the payload says 'kiosk-a'.*'kiosk-b'"):
        decode_event(raw, kiosk_id="kiosk-b")


def test_event_id_of_reads_the_id_of_a_broken_event():
    payload = wire(EXAMPLES["loan_out"]) | {"seq": -5}
    raw = json.dumps(payload).encode()
    with pytest.raises(MalformedMessage):
        decode_event(raw)
    assert event_id_of(raw) == payload["event_id"]
    for junk in [b"\xff", b"[]", b"{", b'{"event_id": 3}', b'{"event_id": ""}', "text"]:
        assert event_id_of(junk) is None
    assert event_id_of(b'{"event_id": "' + b"x" * 65 + b'"}') is None


def test_event_id_of_reads_an_id_that_is_not_a_uuid_and_one_from_an_oversized_event():
    assert event_id_of(b'{"event_id": "evt-7", "seq": "x"}') == "evt-7"
    oversized = json.dumps(wire(EXAMPLES["loan_out"]) | {"pad": "x" * 70_000}).encode()
    with pytest.raises(MalformedMessage, match="limit is 65,536"):
        decode_event(oversized)
    assert event_id_of(oversized) == EXAMPLES["loan_out"].event_id
    assert request_id_of(b'{"request_id": "q-1", "kind": "nope"}') == "q-1"


def test_a_duplicate_ack_carries_the_original_outcome():
    first_applied = EventAck(event_id="a", status="duplicate")
    first_rejected = EventAck(event_id="b", status="duplicate", reason="Card 0A0 is not known.")
    assert not first_applied.rejected and first_rejected.rejected
    assert EventAck(event_id="c", status="rejected", reason="no").rejected


def test_acks_travel_singly_or_batched_and_decode_either_way():
    acks = [EventAck(event_id=f"id-{n}", status="applied") for n in range(450)]
    singles = encode_acks(acks, batched=False)
    batches = encode_acks(acks, batched=True)
    assert len(singles) == 450 and len(batches) == 3
    assert [a for raw in batches for a in acks_in(raw)] == acks
    assert [a for raw in singles for a in acks_in(raw)] == acks
    assert isinstance(DECODERS[Channel.ACKS](batches[0]), EventAcks)
    with pytest.raises(MalformedMessage, match="acks: List should have at least 1 item"):
        acks_in(b'{"v": 1, "acks": []}')


def test_a_status_without_features_is_the_v1_0_wire():
    offline = Availability(state="offline")
    assert b"features" not in encode(offline)
    online = Availability(state="online", features=["batched_acks", "future_thing"])
    assert decode_availability(encode(online)).speaks("batched_acks")
    assert not offline.speaks("batched_acks")


def test_a_config_without_tool_names_is_the_v1_1_wire_and_hash():
    """Names (protocol 1.2) are left off while null: a nameless config keeps its old bytes,
    and the content hash a v1.1 hub computed still checks on a v1.2 kiosk."""
    v1_1 = EXAMPLES["config"]
    assert b'"name":null' not in encode(v1_1) and decode_config(encode(v1_1)) == v1_1
    assert content_hash(v1_1) == v1_1.content_hash
    named = KioskConfig.build(
        version=4,
        generated_at=v1_1.generated_at,
        site="main",
        kiosk_id="kiosk-a",
        name="Shed door",
        lockers={3: LockerTool(tool_code="DRL-001", name="Cordless drill 18V"), 4: None},
    )
    decoded = decode_config(encode(named))
    assert decoded.lockers[3] is not None and decoded.lockers[3].name == "Cordless drill 18V"
    assert b"timezone" not in encode(named) and decoded.timezone is None
    zoned = KioskConfig.build(**_config_fields(v1_1), timezone="America/Argentina/Buenos_Aires")
    assert decode_config(encode(zoned)).timezone == "America/Argentina/Buenos_Aires"
    assert zoned.content_hash != v1_1.content_hash  # the zone is content: a change republishes
    with pytest.raises(ValueError, match="timezone"):
        KioskConfig.build(**_config_fields(v1_1), timezone="../../etc/passwd")
    with pytest.raises(ValueError, match="name"):
        LockerTool.model_validate({"tool_code": "DRL-001", "name": " "})


def _config_fields(config: KioskConfig) -> dict:
    fields = set(config.content_fields - {"timezone"}) | {"version", "generated_at"}
    return {**config.model_dump(include=fields), "lockers": config.lockers}


@pytest.mark.parametrize(
    "fields",
    [
        {"ok": True, "error": {"code": "x", "message": "y"}},
        {"ok": False},
        {"ok": False, "error": {"code": "x", "message": "y"}, "data": {}},
        {"ok": False, "error": {"code": "Not Snake", "message": "y"}},
    ],
)
def test_response_is_ok_with_data_or_an_error(fields):
    payload = {"v": 1, "request_id": new_message_id()} | fields
    with pytest.raises(MalformedMessage):
        DECODERS[Channel.RESPONSES](json.dumps(payload).encode())


def test_rejected_ack_requires_a_reason():
    payload = {"v": 1, "event_id": new_message_id(), "status": "rejected"}
    with pytest.raises(MalformedMessage, match="reason is required"):
        DECODERS[Channel.ACKS](json.dumps(payload).encode())


# --- allow-list and config hashes ----------------------------------------------------------


def member(member_id=1, **overrides):
    fields = dict(
        member_id=member_id,
        number=str(member_id),
        name=f"Member {member_id}",
        status="active",
        roles=["member"],
        trainings={},
    )
    return AllowListMember(**fields | overrides)


def test_content_hash_ignores_version_and_time_but_not_content():
    one = AllowList.build(version=1, generated_at=NOW, entries={"DEADBEEF": member()})
    two = AllowList.build(
        version=2, generated_at=NOW + timedelta(hours=1), entries={"DEADBEEF": member()}
    )
    three = AllowList.build(
        version=3, generated_at=NOW, entries={"DEADBEEF": member(status="suspended")}
    )
    assert one.content_hash == two.content_hash != three.content_hash
    assert content_hash(one) == one.content_hash


def test_content_hash_does_not_depend_on_the_order_given():
    entries = {"DEADBEEF": member(1), "04A1B2C3D4E5F6": member(2)}
    one = AllowList.build(
        version=1,
        generated_at=NOW,
        entries=entries,
        tools_out_of_service=["B", "A"],
        tool_trainings={"B": "x", "A": "y"},
    )
    two = AllowList.build(
        version=1,
        generated_at=NOW,
        entries=dict(reversed(entries.items())),
        tools_out_of_service=["A", "B", "A"],
        tool_trainings={"A": "y", "B": "x"},
    )
    assert one == two
    assert encode(one) == encode(two)


def test_a_tampered_allowlist_is_refused():
    payload = wire(EXAMPLES["allowlist"])
    payload["entries"]["DEADBEEF"]["roles"].append("admin")
    with pytest.raises(MalformedMessage, match="content_hash does not match"):
        decode_allowlist(json.dumps(payload).encode())


def test_an_allowlist_hash_is_checked_on_construction_too():
    good = EXAMPLES["allowlist"]
    with pytest.raises(ValueError, match="content_hash"):
        AllowList(**dict(good) | {"content_hash": "0" * 64})


def test_build_refuses_invalid_content_naming_it():
    with pytest.raises(ValueError, match="entries"):
        AllowList.build(version=1, generated_at=NOW, entries={"deadbeef": member()})


def test_a_large_allowlist_fits():
    entries = {f"{n:08X}": member(n + 1) for n in range(10_000)}
    big = AllowList.build(version=1, generated_at=NOW, entries=entries)
    assert decode_allowlist(encode(big)) == big


def test_encode_refuses_a_message_too_large_to_decode():
    entries = {f"{n:08X}": member(n + 1, name="N" * 120) for n in range(30_000)}
    huge = AllowList.build(version=1, generated_at=NOW, entries=entries)
    with pytest.raises(MalformedMessage, match="the limit is"):
        encode(huge)


@pytest.mark.parametrize(("field", "value"), [("kiosk_id", "hub"), ("site", "hub")])
def test_a_config_for_a_reserved_name_is_refused_as_its_topic_would_be(field, value):
    fields = {"site": "main", "kiosk_id": "kiosk-a", field: value}
    with pytest.raises(ValueError, match="is reserved"):
        KioskConfig.build(version=1, generated_at=NOW, name="Shed", lockers={}, **fields)


echoed_ids = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64
)
acks = st.builds(
    lambda event_id, status, reason: EventAck(
        event_id=event_id,
        status=status,
        reason=reason if status == "rejected" else (reason if status == "duplicate" else None),
    ),
    echoed_ids,
    st.sampled_from(["applied", "duplicate", "rejected"]),
    st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=500
    ).filter(lambda text: text.strip()),
)


@given(st.lists(acks, max_size=450), st.booleans())
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
def test_acks_arrive_as_sent_in_either_form(sent, batched):
    payloads = encode_acks(sent, batched=batched)
    assert [ack for raw in payloads for ack in acks_in(raw)] == sent
    assert all(len(raw) <= MAX_PAYLOAD_BYTES for raw in payloads)
    if batched and sent:
        assert len(payloads) >= -(-len(sent) // 200)


def test_a_batch_of_long_rejections_is_split_to_stay_within_64_kib():
    long = [EventAck(event_id=f"e-{n}", status="rejected", reason="r" * 500) for n in range(200)]
    payloads = encode_acks(long, batched=True)
    assert len(payloads) > 1 and all(len(raw) <= MAX_PAYLOAD_BYTES for raw in payloads)
    assert [ack for raw in payloads for ack in acks_in(raw)] == long


# --- protocol 1.2: holds and the borrowing policy, off the wire while unused ---------------


def test_an_allow_list_without_holds_or_limits_is_the_v1_1_wire_and_hash():
    import hashlib

    from broker.messages import AllowList, AllowListMember, canonical_json, decode_allowlist

    member = AllowListMember(
        member_id=1, number="1", name="Ada", status="active", roles=["member"], loans=["DRL-1"]
    )
    allowlist = AllowList.build(
        version=3, generated_at=datetime(2026, 1, 1, tzinfo=UTC), entries={"DEADBEEF": member}
    )
    wire = json.loads(encode(allowlist))
    assert not {"reservations", "limits"} & set(wire)
    assert "loans_due" not in wire["entries"]["DEADBEEF"]
    v1_1 = {key: wire[key] for key in ("entries", "tools_out_of_service", "tool_trainings")}
    assert allowlist.content_hash == hashlib.sha256(canonical_json(v1_1)).hexdigest()
    assert decode_allowlist(encode(allowlist)) == allowlist


def test_reservations_limits_and_due_times_travel_and_are_hashed():
    from broker.messages import BorrowingLimits, Reservation, decode_allowlist

    allowlist = EXAMPLES["allowlist"]
    assert allowlist.reservations["SND-004"] == Reservation(
        member_number="7", until=datetime(2025, 5, 17, 17, 0, tzinfo=UTC)
    )
    assert allowlist.limits == BorrowingLimits(max_loans=3, overdue_grace_days=7)
    tampered = json.loads(encode(allowlist))
    tampered["reservations"]["SND-004"]["member_number"] = "8"
    with pytest.raises(MalformedMessage, match="content_hash does not match"):
        decode_allowlist(json.dumps(tampered).encode())
    with pytest.raises(MalformedMessage, match="limits.max_loans"):
        tampered["limits"]["max_loans"] = 0
        decode_allowlist(json.dumps(tampered).encode())


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
def test_a_response_with_a_number_json_does_not_have_is_refused(number):
    """JSON has no Infinity or NaN: accepted inside ``data`` they would encode as null, so the
    message would not round-trip (found by the property above)."""
    raw = f'{{"v":1,"request_id":"r-1","ok":true,"data":{{"hours":[1,{{"x":{number}}}]}}}}'
    with pytest.raises(MalformedMessage, match="^data: numbers must be finite"):
        decode_response(raw.encode())
