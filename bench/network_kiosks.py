"""The lightweight kiosks of ``network_bench.py``: the kiosk's real outbox, link and allow-list
store, no screen, no pins; a realistic event mix written to the outbox.

    .venv/bin/python bench/network_kiosks.py   (started by network_bench.py, not by hand)

Run as a process, it reads a JSON spec (its kiosks, their site brokers and logins) on its first
line of stdin, starts a ``kiosk.link.Link`` per kiosk, then answers commands, one JSON line
each: ``traffic`` (tap N times per kiosk over S seconds of wall time, 0: as fast as it goes,
stamped with simulated times), ``status`` (each outbox's backlog and numbering, the loans
written, the allow-list version held), ``suspended`` (when each kiosk's store first held each
suspended member, wall time) and ``quit``. It imports the kiosk and the wire only, never the
hub, so its memory is a kiosk's.
"""

from __future__ import annotations

import json
import random
import sys
import time
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker import messages as wire  # noqa: E402
from kiosk.allowlist import AllowListStore  # noqa: E402
from kiosk.config import MqttSettings  # noqa: E402
from kiosk.link import Link  # noqa: E402
from kiosk.outbox import Outbox  # noqa: E402
from kiosk.storage import open_database  # noqa: E402

LOCKERS = 8  # per kiosk: each its own tool
REFUSAL_EVERY, REPAIR_EVERY = 10, 25
EVENTS_PER_TAP = 3 + 1 / REFUSAL_EVERY + 1 / REPAIR_EVERY


def member_card(number: int) -> str:
    return f"{0xA0000000 + number:08X}"


def tool_code(kiosk: str, slot: int) -> str:
    return f"{kiosk.upper()}-T{slot}"


Event = tuple[type[wire.Event], Any]  # (event class, body)


class Mix:
    """One kiosk's realistic stream: per tap a door opens, a tool goes out (or comes back if it
    was out), the door closes; a refused card before every 10th tap, a repair after every 25th."""

    def __init__(self, kiosk: str, members: int, seed: int) -> None:
        self.kiosk, self.members = kiosk, members
        self.random = random.Random(seed)
        self.borrower: dict[int, int] = {}  # slot -> member number who has its tool
        self.taps = 0
        self.loans = 0

    def tap(self) -> list[Event]:
        """Return the events of the next tap."""
        self.taps += 1
        slot = self.random.randrange(1, LOCKERS + 1)
        member = self.random.randrange(self.members)
        code = tool_code(self.kiosk, slot)
        events: list[Event] = []
        if self.taps % REFUSAL_EVERY == 0:
            uid = f"{self.random.randrange(0xC0000000, 0xCFFFFFFF):08X}"
            body = wire.CardRefused(card_uid=uid, reason="unknown_card")
            events.append((wire.CardRefusedEvent, body))
        events.append((wire.DoorOpenedEvent, wire.DoorChange(locker_slot=slot)))
        if slot in self.borrower:
            card = member_card(self.borrower.pop(slot))
            body = wire.ToolReturn(card_uid=card, tool_code=code, locker_slot=slot, condition="ok")
            events.append((wire.ToolReturnEvent, body))
        else:
            self.borrower[slot] = member
            self.loans += 1
            body = wire.LoanOut(card_uid=member_card(member), tool_code=code, locker_slot=slot)
            events.append((wire.LoanOutEvent, body))
        events.append((wire.DoorClosedEvent, wire.DoorChange(locker_slot=slot)))
        if self.taps % REPAIR_EVERY == 0:
            repair = wire.RepairLogged(
                card_uid=member_card(member), tool_code=code, hours=Decimal("0.5"), note="oiled"
            )
            events.append((wire.RepairLoggedEvent, repair))
        return events


def encoded(kiosk: str, seq: int, event: Event, at: datetime) -> bytes:
    """The bytes a kiosk would send for ``event`` (the baseline sends the same sizes)."""
    kind, body = event
    return wire.encode(
        kind(event_id=wire.new_message_id(), kiosk_id=kiosk, seq=seq, kiosk_time=at, body=body)
    )


# --- a kiosk process: the real outbox, link and allow-list store, no screen ---------------------


class LightKiosk:
    """A kiosk reduced to its outbox, its link and its allow-list store."""

    def __init__(self, spec: dict[str, Any], members: int) -> None:
        self.id, self.data_dir = spec["id"], Path(spec["data_dir"])
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.mix = Mix(self.id, members, seed=zlib.crc32(self.id.encode()))
        self.outbox = Outbox(self.data_dir / "outbox.db", self.id)  # this (the driving) thread's
        # opened on the link's thread: the one that offers documents to it
        self.store: AllowListStore | None = None
        self.suspended_seen: dict[str, float] = {}  # card -> wall time first held suspended
        settings = MqttSettings(
            host=spec["host"],
            port=spec["port"],
            username=self.id,
            password=spec["password"],
            reconnect_max_s=2,
        )
        self.link = Link(
            kiosk_id=self.id,
            site=spec["site"],
            mqtt_settings=settings,
            outbox_path=self.data_dir / "outbox.db",
            on_snapshot=self._snapshot,
            versions=self._versions,
        )

    def _versions(self) -> tuple[int | None, int | None]:
        return self.store.versions if self.store is not None else (None, None)

    def _snapshot(self, kind: str, payload: bytes, document: Any) -> None:
        """On the link's thread: offer the document to the store, note who is suspended."""
        if self.store is None:
            self.store = AllowListStore(open_database(self.data_dir / "kiosk.db", ""), self.id)
        if self.store.offer(kind, payload, document) and kind == "allowlist":
            now = time.time()
            for uid, entry in document.entries.items():
                if entry.status == "suspended":
                    self.suspended_seen.setdefault(uid, now)

    def tap(self, at: datetime) -> int:
        """Write one tap's events to the outbox; wake the link. Return how many."""
        events = self.mix.tap()
        for kind, body in events:
            self.outbox.record(kind, body, at=at)
        self.link.wake()
        return len(events)

    def status(self) -> dict[str, Any]:
        return {
            "backlog": self.outbox.backlog(),
            "next_seq": self.outbox.next_seq(),
            "loans": self.mix.loans,
            "allowlist": self._versions()[0],
            "connected": self.link.figures.connected,
        }


def traffic(kiosks: list[LightKiosk], command: dict[str, Any]) -> dict[str, int]:
    """Tap ``command['taps']`` times per kiosk, round robin, spread over ``seconds`` of wall
    time (0: as fast as the kiosks go), stamped from ``sim_start`` over ``sim_minutes``."""
    taps, seconds = int(command["taps"]), float(command["seconds"])
    start = datetime.fromisoformat(command["sim_start"])
    span = timedelta(minutes=float(command["sim_minutes"]))
    total = max(1, taps * len(kiosks))
    began = time.monotonic()
    written = dict.fromkeys((k.id for k in kiosks), 0)
    for number in range(total):
        if seconds:
            wait = began + seconds * number / total - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        kiosk = kiosks[number % len(kiosks)]
        written[kiosk.id] += kiosk.tap(start + span * (number / total))
    return written


def main() -> None:
    """Run kiosks from the spec on stdin's first line; answer commands, one JSON line each."""
    spec = json.loads(sys.stdin.readline())
    kiosks = [LightKiosk(one, spec["members"]) for one in spec["kiosks"]]
    for kiosk in kiosks:
        kiosk.link.start()
    _reply("ready")
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["cmd"] == "traffic":
                _reply(traffic(kiosks, command))
            elif command["cmd"] == "status":
                _reply({k.id: k.status() for k in kiosks})
            elif command["cmd"] == "suspended":
                _reply({k.id: dict(k.suspended_seen) for k in kiosks})
            elif command["cmd"] == "quit":
                break
    finally:
        for kiosk in kiosks:
            kiosk.link.stop()
            kiosk.outbox.close()
    _reply("bye")


def _reply(value: Any) -> None:
    print(json.dumps(value), flush=True)


if __name__ == "__main__":
    main()
