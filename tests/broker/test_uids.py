"""broker.uids: one canonical form for card UIDs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.uids import canonical_uid, uid_from_bytes
from devices.rfid import uid as kiosk_uids
from tests.uid_spellings import ACCEPTED, REFUSED

uid_bytes = st.binary(min_size=4, max_size=4) | st.binary(min_size=7, max_size=7)


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepts_the_shared_table_of_spellings(text, expected):
    assert canonical_uid(text) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_refuses_the_shared_table_of_refusals(text):
    with pytest.raises(ValueError):
        canonical_uid(text)


def outcome(parse, text):
    try:
        return parse(text)
    except ValueError:
        return None


@given(st.text(alphabet="0123456789abcdefABCDEF:- \t\nxGﬀ", max_size=24) | st.text(max_size=24))
def test_the_kiosk_and_the_wire_spell_every_text_alike(text):
    assert outcome(canonical_uid, text) == outcome(kiosk_uids.canonical_uid, text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        (":: --", "empty"),
        ("DEADBEE", "7 hex digits"),
        ("DEADBEEF22", "10 hex digits"),  # mfrc522's uid_to_num folds the check byte in
        ("DEADBEEG", "non-hex characters: 'G'"),
        ("DE_AD_BE_EF", "non-hex characters: '_'"),
        ("0xDEADBEEF", "non-hex characters: 'X'"),
        ("DEA:DBEEF", "separators go between whole bytes"),
    ],
)
def test_refuses_naming_the_problem(text, problem):
    with pytest.raises(ValueError, match=problem):
        canonical_uid(text)


def test_refuses_non_text():
    with pytest.raises(ValueError, match="must be text"):
        canonical_uid(0xDEADBEEF)


@given(uid_bytes, st.sampled_from(["", ":", "-", " "]), st.booleans())
def test_any_printing_of_uid_bytes_gives_their_uppercase_hex(raw, separator, lower):
    printed = separator.join(f"{b:02x}" if lower else f"{b:02X}" for b in raw)
    assert canonical_uid(printed) == raw.hex().upper() == uid_from_bytes(raw)


@given(uid_bytes)
def test_canonical_form_is_a_fixed_point(raw):
    once = canonical_uid(raw.hex())
    assert canonical_uid(once) == once


@given(st.text(max_size=30))
def test_anything_else_is_a_value_error_or_canonical(text):
    try:
        result = canonical_uid(text)
    except ValueError:
        return
    assert len(result) in (8, 14)
    assert set(result) <= set("0123456789ABCDEF")


def test_uid_from_bytes_refuses_other_lengths():
    with pytest.raises(ValueError, match="5 bytes"):
        uid_from_bytes(b"\xde\xad\xbe\xef\x22")
