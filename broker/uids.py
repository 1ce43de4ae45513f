"""Card UIDs in the one form the whole system stores, compares and sends.

A canonical UID is the uppercase hex of the card's real UID bytes: 4 bytes (single-size,
e.g. MIFARE Classic) or 7 bytes (double-size, e.g. NTAG, DESFire), so 8 or 14 hex digits,
no separators, no check byte.
"""

from __future__ import annotations

import re
import string

UID_BYTE_LENGTHS = (4, 7)
CANONICAL_UID_PATTERN = r"^(?:[0-9A-F]{8}|[0-9A-F]{14})$"
# NOTE: the same spellings as devices/rfid/uid.py (a copy the house plan forces: broker imports
# nothing of ours); tests/uid_spellings.py holds both to one table.
_SEPARATORS = re.compile(r"[:\- ]+")


def canonical_uid(text: str) -> str:
    """Return ``text`` as a canonical card UID, or raise ValueError saying what is wrong.

    Accept lowercase, and bytes separated by ':', '-' or ' ' (as readers and labels print
    them); a separator goes only between whole bytes.
    """
    if not isinstance(text, str):
        raise ValueError(f"card UID must be text, not {type(text).__name__}")
    groups = _SEPARATORS.split(text.strip())
    digits = "".join(groups)
    if not digits:
        raise ValueError("card UID is empty")
    bad = sorted({c.upper() if c.isascii() else c for c in digits} - set(string.hexdigits.upper()))
    if bad:
        raise ValueError(f"card UID {text!r} has non-hex characters: {''.join(bad)!r}")
    if len(digits) not in (2 * n for n in UID_BYTE_LENGTHS):
        raise ValueError(
            f"card UID {text!r} has {len(digits)} hex digits; a UID is 4 or 7 bytes "
            "(8 or 14 hex digits)"
        )
    if any(not group or len(group) % 2 for group in groups):
        raise ValueError(
            f"card UID {text!r}: separators go between whole bytes (two hex digits each)"
        )
    return digits.upper()


def uid_from_bytes(uid: bytes | bytearray | list[int]) -> str:
    """Return the canonical UID of the raw UID bytes a reader returns (check byte removed)."""
    raw = bytes(uid)
    if len(raw) not in UID_BYTE_LENGTHS:
        raise ValueError(f"card UID is {len(raw)} bytes; a UID is 4 or 7 bytes")
    return raw.hex().upper()
