"""Allow-lists, configs and settings for kiosk tests, built the way the hub builds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from broker import messages as wire
from kiosk.config import KioskSettings, settings_from

NOW = datetime(2025, 5, 17, 9, 30, tzinfo=UTC)
ADA, SAM, SUE, TOM = "04A1B2C3D4E5F6", "DEADBEEF", "0A0B0C0D", "CAFEBABE"
STRANGER = "01020304"
PINS = [(1, 17, 5), (2, 27, 6), (3, 22, 13)]  # slot, relay, door (as kiosk/default.toml)


def member(name: str, number: str, *, roles=("member",), status="active", trainings=None, loans=()):
    return wire.AllowListMember(
        member_id=int(number),
        number=number,
        name=name,
        status=status,
        roles=list(roles),
        trainings=trainings or {},
        loans=list(loans),
    )


def an_allowlist(
    version: int = 1,
    *,
    out_of_service=("SAW-2",),
    extra: dict | None = None,
    generated_at: datetime = NOW,
) -> wire.AllowList:
    """Ada (drill-press trained), Sam (steward), Sue (suspended), Tom (training expired)."""
    entries = {
        ADA: member("Ada Lovelace", "42", trainings={"drill-press": NOW + timedelta(days=90)}),
        SAM: member("Sam Steward", "7", roles=("member", "steward")),
        SUE: member("Sue Paused", "9", status="suspended"),
        TOM: member("Tom Lapsed", "11", trainings={"drill-press": NOW - timedelta(days=1)}),
        **(extra or {}),
    }
    return wire.AllowList.build(
        version=version,
        generated_at=generated_at,
        entries=entries,
        tools_out_of_service=out_of_service,
        tool_trainings={"PRESS-1": "drill-press"},
    )


def a_config(
    version: int = 1,
    *,
    kiosk_id: str = "kiosk-a",
    lockers: dict | None = None,
    names: dict | None = None,
    timezone: str | None = None,
):
    """Locker 1: DRILL-1, 2: SAW-2 (out of service), 3: PRESS-1 (needs training); ``names``
    (code -> name) and ``timezone`` as protocol 1.2 configs carry them."""
    tools = lockers or {1: "DRILL-1", 2: "SAW-2", 3: "PRESS-1"}
    names = names or {}
    return wire.KioskConfig.build(
        version=version,
        generated_at=NOW,
        site="test",
        kiosk_id=kiosk_id,
        name="Test shed",
        lockers={
            slot: wire.LockerTool(tool_code=code, name=names.get(code)) if code else None
            for slot, code in tools.items()
        },
        session_timeout_s=30,
        timezone=timezone,
    )


def kiosk_settings(data_dir: Path, *, pins=PINS, **kiosk: Any) -> KioskSettings:
    """Settings for kiosk-a at site "test" with three lockers (or ``pins``: slot, relay,
    door) and no real password file."""
    return settings_from(
        {
            "kiosk": {
                "id": "kiosk-a",
                "site": "test",
                "data_dir": str(data_dir),
                "screen_port": 0,
                **kiosk,
            },
            "mqtt": {"host": "127.0.0.1", "port": 1883},
            "reader": {"backend": "simulated"},
            "feedback": {"green_led_pin": 18, "red_led_pin": 15, "buzzer_pin": 14},
            "lockers": {
                "pulse_seconds": 5.0,
                "forced_grace_seconds": 1.0,
                "slots": [{"slot": s, "relay_pin": r, "door_pin": d} for s, r, d in pins],
            },
        }
    )


def rising_edges(pin) -> int:
    """Count the times a mock pin went from low to high (relay pulses)."""
    states = [state.state for state in pin.states]
    return sum(1 for before, after in zip(states, states[1:], strict=False) if after and not before)
