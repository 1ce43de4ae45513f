import pytest

from devices.rfid.iso14443 import bcc, cascade_levels, crc_a


@pytest.mark.parametrize(
    ("frame", "crc"),
    [
        (b"\x00\x00", b"\xa0\x1e"),  # ISO/IEC 14443-3 annex B
        (b"\x12\x34", b"\x26\xcf"),  # ISO/IEC 14443-3 annex B
        (b"\x50\x00", b"\x57\xcd"),  # HLTA, as every reader sends it
    ],
)
def test_crc_a_matches_the_standard_examples(frame, crc):
    assert crc_a(frame) == crc


def test_bcc_is_the_xor_of_the_level():
    assert bcc(b"\xde\xad\xbe\xef") == 0x22
    assert bcc(b"\x88\x04\xa2\x24") == 0x0A


def test_a_4_byte_uid_fits_in_one_cascade_level():
    assert cascade_levels(bytes.fromhex("DEADBEEF")) == [bytes.fromhex("DEADBEEF")]


def test_a_7_byte_uid_needs_a_cascade_tag_and_two_levels():
    assert cascade_levels(bytes.fromhex("04A224E2B35C80")) == [
        bytes.fromhex("8804A224"),
        bytes.fromhex("E2B35C80"),
    ]


def test_a_10_byte_uid_needs_three_levels():
    levels = cascade_levels(bytes(range(1, 11)))
    assert levels == [bytes.fromhex("88010203"), bytes.fromhex("88040506"), bytes(range(7, 11))]


def test_other_lengths_have_no_cascade_levels():
    with pytest.raises(ValueError, match="not 5"):
        cascade_levels(b"\x01\x02\x03\x04\x05")
