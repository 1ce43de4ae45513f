"""The few ISO/IEC 14443-3 type A facts that both the reader and the emulated card rely on.

A reader learns a UID in cascade levels of 4 bytes. A 4-byte UID fits in level 1. A 7-byte UID
does not: level 1 answers the cascade tag 0x88 and the first 3 bytes, level 2 the last 4. Every
level's answer ends with a BCC byte (the XOR of the 4 bytes before it); SELECT frames and their
SAK answers end with a CRC_A.
"""

from __future__ import annotations

from collections.abc import Iterable

REQA = 0x26  # "request, idle": wakes cards that are idle (a 7-bit short frame)
WUPA = 0x52  # "wake up, all": also wakes halted cards (a 7-bit short frame)
HLTA = 0x50
CASCADE_TAG = 0x88
SEL_CODES = (0x93, 0x95, 0x97)  # the SEL byte of cascade levels 1, 2, 3
NVB_ANTICOLLISION = 0x20  # "2 bytes follow": ask for the whole level
NVB_SELECT = 0x70  # "7 bytes follow": select by the whole level + BCC
SAK_UID_INCOMPLETE = 0x04  # SAK bit: the UID continues at the next cascade level


def crc_a(data: Iterable[int]) -> bytes:
    """Return the CRC_A of ``data``, least significant byte first, as sent on air."""
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte ^= (byte << 4) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
    return bytes((crc & 0xFF, crc >> 8))


def bcc(data: Iterable[int]) -> int:
    """Return the block check character (XOR) of one cascade level's 4 bytes."""
    check = 0
    for byte in data:
        check ^= byte
    return check


def cascade_levels(uid: bytes) -> list[bytes]:
    """Split a 4-, 7- or 10-byte UID into the 4-byte cascade levels a card answers."""
    if len(uid) not in (4, 7, 10):
        raise ValueError(f"a UID has 4, 7 or 10 bytes, not {len(uid)}")
    levels = []
    while len(uid) > 4:
        levels.append(bytes((CASCADE_TAG,)) + uid[:3])
        uid = uid[3:]
    return [*levels, uid]
