"""The one canonical spelling of a card UID: uppercase hex of the real UID bytes, no separators.

ISO 14443-A cards carry a 4-byte ("single size", MIFARE Classic) or a 7-byte ("double size",
NTAG, DESFire) UID, so a canonical UID has 8 or 14 hex digits: ``"DEADBEEF"``,
``"04A224E2B35C80"``. The hub applies the same rule to the UIDs it stores: ``broker/uids.py``
is a copy (devices and broker import nothing of ours), and ``tests/uid_spellings.py`` holds
both to one table of spellings.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Literal

UID_LENGTHS = (4, 7)

_SEPARATORS = re.compile(r"[:\- ]+")


def canonical_uid(value: str | bytes | bytearray | Iterable[int]) -> str:
    """Return ``value`` as a canonical UID, or raise ValueError saying what is wrong with it.

    Accept raw bytes, a sequence of byte values, or hex text in any case whose bytes may be
    separated by ``:``, ``-`` or spaces (``"de:ad:be:ef"``, ``"DEAD BEEF"``).
    """
    if isinstance(value, str):
        raw = _bytes_from_hex(value)
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, Iterable):
        raw = _bytes_from_ints(list(value))
    else:
        raise TypeError(f"a UID must be text, bytes or byte values, not {type(value).__name__}")
    return _checked_length(raw, value).hex().upper()


def uid_from_decimal(text: str, *, byteorder: Literal["big", "little"] = "big") -> str:
    """Return the canonical UID of a 4-byte UID written as one decimal number.

    Cheap keyboard-wedge readers type ``"3735928559"`` for DE AD BE EF (big-endian), or
    ``"4022250974"`` when they read the bytes the other way round (little-endian).
    """
    digits = text.strip()
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"UID {text!r} is not a decimal number")
    number = int(digits)
    if number >= 1 << 32:
        raise ValueError(f"UID {text!r} is larger than 4 bytes")
    return number.to_bytes(4, byteorder).hex().upper()


def _bytes_from_hex(text: str) -> bytes:
    groups = _SEPARATORS.split(text.strip())
    for group in groups:
        if not group or any(char not in string.hexdigits for char in group):
            raise ValueError(f"UID {text!r} is not hexadecimal")
        if len(group) % 2:
            raise ValueError(f"UID {text!r} has an odd number of hex digits between separators")
    return bytes.fromhex("".join(groups))


def _bytes_from_ints(values: list[int]) -> bytes:
    for position, byte in enumerate(values):
        if not isinstance(byte, int) or isinstance(byte, bool) or not 0 <= byte <= 0xFF:
            raise ValueError(f"UID byte {byte!r} at position {position} is not in 0..255")
    return bytes(values)


def _checked_length(raw: bytes, original: object) -> bytes:
    if len(raw) not in UID_LENGTHS:
        raise ValueError(f"UID {original!r} has {len(raw)} bytes; a card UID has 4 or 7")
    return raw
