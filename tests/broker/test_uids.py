"""broker.uids: one canonical form for card UIDs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.uids import canonical_uid, uid_from_bytes

uid_bytes = st.binary(min_size=4, max_size=4) | st.binary(min_size=7, max_size=7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("04a1b2c3", "04A1B2C3"),
        ("DE:AD:BE:EF", "DEADBEEF"),
        ("de-ad-be-ef", "DEADBEEF"),
        (" 04 A1 B2 C3 D4 E5 F6 ", "04A1B2C3D4E5F6"),
        ("04a1b2c3d4e5f6", "04A1B2C3D4E5F6"),
    ],
)
def test_accepts_separators_and_lowercase(text, expected):
    assert canonical_uid(text) == expected


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
