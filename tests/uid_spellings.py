"""One table of card UID spellings for both copies of the rule: devices/rfid/uid.py (the
kiosk) and broker/uids.py (the wire and the hub). Both test modules run it; neither copy may
drift from the other.
"""

from __future__ import annotations

# What people and readers type -> the one canonical spelling.
ACCEPTED: list[tuple[str, str]] = [
    ("DEADBEEF", "DEADBEEF"),
    ("deadbeef", "DEADBEEF"),
    ("DeAdBeEf", "DEADBEEF"),
    ("DE:AD:BE:EF", "DEADBEEF"),
    ("de-ad-be-ef", "DEADBEEF"),
    ("DE AD BE EF", "DEADBEEF"),
    ("DEAD BEEF", "DEADBEEF"),
    ("DE:AD-BE EF", "DEADBEEF"),  # any of the separators, mixed
    ("DE  AD::BE--EF", "DEADBEEF"),  # a run of separators is one
    ("  deadbeef\n", "DEADBEEF"),  # surrounding whitespace, as a keyboard wedge ends a line
    ("\tDE:AD:BE:EF\u00a0", "DEADBEEF"),
    ("04a224e2b35c80", "04A224E2B35C80"),
    ("04:a2:24:e2:b3:5c:80", "04A224E2B35C80"),
    (" 04 A2 24 E2 B3 5C 80 ", "04A224E2B35C80"),
    ("00000000", "00000000"),
]

# Spellings both refuse: wrong length, not hex, separators splitting a byte, lookalikes.
REFUSED: list[str] = [
    "",
    "   ",
    ":: --",
    "DEADBE",  # 3 bytes
    "DEADBEE",  # 7 hex digits
    "DEADBEEF22",  # 5 bytes: mfrc522's uid_to_num folds the check byte in
    "DEADBEEFDEADBEEF",  # 8 bytes
    "DEADBEEG",
    "0xDEADBEEF",
    "DE_AD_BE_EF",
    "DE.AD.BE.EF",
    "DE\tAD\tBE\tEF",  # a tab is not a separator
    "DEA:DBEEF",  # a separator inside a byte
    "D:E:A:D:B:E:E:F",
    ":DEADBEEF",
    "DEADBEEF:",
    "DE::AD:BE:EF:",
    "DEADBEﬀ",  # "ﬀ" upper-cases to "FF"; it is not hex
    "DEADBEＥＦ",  # fullwidth letters
    "ＤＥＡＤＢＥＥＦ",
    "DEADBEE\u0660",  # an Arabic-Indic zero
    "3735928559",  # a decimal number is not hex text (devices.rfid.uid.uid_from_decimal)
]
