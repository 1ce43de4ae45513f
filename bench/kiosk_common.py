"""Shared pieces of the kiosk benchmarks: a kiosk in-process on timed mock pins, allow-lists."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPin

from broker import messages as wire
from kiosk.config import DEFAULT_CONFIG, load_settings


class TimedPin(MockPin):
    """A mock pin that notes (perf_counter) each time it goes high."""

    rises: list[float] = []

    def _change_state(self, value):
        if value and not self._state:
            TimedPin.rises.append(time.perf_counter())
        return super()._change_state(value)


def timed_factory() -> MockFactory:
    return MockFactory(pin_class=TimedPin)


def card(number: int) -> str:
    return f"{number:08X}"


def big_allowlist(cards: int, version: int = 1) -> wire.AllowList:
    """An allow-list of ``cards`` active members (card 1 .. cards)."""
    entries = {
        card(n): wire.AllowListMember(
            member_id=n,
            number=str(n),
            name=f"Member {n}",
            status="active",
            roles=["member"],
            trainings={},
        )
        for n in range(1, cards + 1)
    }
    return wire.AllowList.build(version=version, generated_at=datetime.now(UTC), entries=entries)


def a_config(kiosk_id: str, site: str, version: int = 1) -> wire.KioskConfig:
    return wire.KioskConfig.build(
        version=version,
        generated_at=datetime.now(UTC),
        site=site,
        kiosk_id=kiosk_id,
        name="Bench shed",
        lockers={1: wire.LockerTool(tool_code="DRILL-1")},
    )


def bench_settings(data_dir: Path, **mqtt):
    settings = load_settings(DEFAULT_CONFIG)
    return replace(
        settings,
        kiosk_id="kiosk-a",
        site="test",
        data_dir=data_dir,
        screen_port=0,
        mqtt=replace(settings.mqtt, username="kiosk-a", **mqtt),
    )


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.3f} ms  p99 {p99:.3f} ms  max {ordered[-1]:.3f} ms"
