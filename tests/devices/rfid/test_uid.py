import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.rfid.uid import canonical_uid, uid_from_decimal
from tests.uid_spellings import ACCEPTED, REFUSED

uids = st.one_of(st.binary(min_size=4, max_size=4), st.binary(min_size=7, max_size=7))


@pytest.mark.parametrize(
    "value",
    [
        "DEADBEEF",
        "deadbeef",
        "DE:AD:BE:EF",
        "de-ad-be-ef",
        "DE AD BE EF",
        "DEAD BEEF",
        "  deadbeef\n",
        b"\xde\xad\xbe\xef",
        bytearray(b"\xde\xad\xbe\xef"),
        [0xDE, 0xAD, 0xBE, 0xEF],
        (0xDE, 0xAD, 0xBE, 0xEF),
    ],
)
def test_canonical_uid_accepts_the_usual_spellings(value):
    assert canonical_uid(value) == "DEADBEEF"


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_canonical_uid_accepts_the_shared_table_of_spellings(text, expected):
    assert canonical_uid(text) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_canonical_uid_refuses_the_shared_table_of_refusals(text):
    with pytest.raises(ValueError):
        canonical_uid(text)


def test_canonical_uid_keeps_all_seven_bytes_of_a_double_size_uid():
    assert canonical_uid("04:a2:24:e2:b3:5c:80") == "04A224E2B35C80"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("DEADBE", "has 3 bytes"),
        ("DEADBEEF22", "has 5 bytes"),  # the BCC-folded number of the mfrc522 library
        ("", "is not hexadecimal"),
        ("DEADBEEG", "is not hexadecimal"),
        ("0xDEADBEEF", "is not hexadecimal"),
        ("DEA:DBEEF", "odd number of hex digits"),
        ("DE::AD:BE:EF:", "is not hexadecimal"),
        ([0xDE, 0xAD, 0xBE, 256], "byte 256 at position 3"),
        ([0xDE, 0xAD, 0xBE, -1], "byte -1 at position 3"),
        ([True, 0xAD, 0xBE, 0xEF], "byte True at position 0"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", "has 10 bytes"),
    ],
)
def test_canonical_uid_says_what_is_wrong(value, complaint):
    with pytest.raises(ValueError, match=complaint):
        canonical_uid(value)


@pytest.mark.parametrize("value", [3735928559, None, 1.5])
def test_canonical_uid_refuses_numbers_and_other_types(value):
    with pytest.raises(TypeError, match="a UID must be"):
        canonical_uid(value)


@given(uids)
def test_every_spelling_of_a_uid_gives_the_same_canonical_uid(raw):
    expected = raw.hex().upper()
    assert canonical_uid(raw) == expected
    assert canonical_uid(list(raw)) == expected
    assert canonical_uid(raw.hex(":")) == expected
    assert canonical_uid(raw.hex("-").lower()) == expected
    assert canonical_uid(canonical_uid(raw)) == expected


@given(st.binary(max_size=12).filter(lambda raw: len(raw) not in (4, 7)))
def test_no_other_length_is_a_uid(raw):
    with pytest.raises(ValueError, match=f"has {len(raw)} bytes"):
        canonical_uid(raw)


def test_uid_from_decimal_reads_big_endian_by_default():
    assert uid_from_decimal("3735928559") == "DEADBEEF"
    assert uid_from_decimal("0000000001") == "00000001"


def test_uid_from_decimal_reads_little_endian_when_asked():
    assert uid_from_decimal("3735928559", byteorder="little") == "EFBEADDE"


@given(st.binary(min_size=4, max_size=4), st.sampled_from(["big", "little"]))
def test_uid_from_decimal_inverts_what_a_wedge_reader_types(raw, byteorder):
    typed = str(int.from_bytes(raw, byteorder)).zfill(10)
    assert uid_from_decimal(typed, byteorder=byteorder) == raw.hex().upper()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("4294967296", "larger than 4 bytes"), ("12a4", "not a decimal"), ("", "not a decimal")],
)
def test_uid_from_decimal_refuses_what_is_not_a_4_byte_number(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        uid_from_decimal(text)
