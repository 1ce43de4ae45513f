"""Tap-to-unlock: from the reader reporting a UID to the relay pin going high, 1,000 taps.

    .venv/bin/python bench/kiosk_tap_bench.py

The kiosk runs in-process on mock pins (a pin-state hook timestamps the relay), with a local
allow-list of 1,000 cards, the tool picked first on the screen so that the tap opens the
locker. Baseline, same run: the reader's callback pulsing the relay directly (no queue, no
decision, no session). Goal: p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.kiosk_common import (  # noqa: E402
    TimedPin,
    a_config,
    bench_settings,
    big_allowlist,
    card,
    percentiles,
    timed_factory,
)
from broker import messages as wire  # noqa: E402
from devices.lockers import LockerBank  # noqa: E402
from devices.rfid import SimulatedReader  # noqa: E402
from kiosk.station import Station  # noqa: E402

TAPS = 1000


def measure(tap, prepare) -> list[float]:
    """Return tap-to-relay times (ms) of TAPS taps."""
    samples = []
    for number in range(TAPS):
        prepare()
        TimedPin.rises.clear()
        started = time.perf_counter()
        tap(card(number % 1000 + 1))
        while not TimedPin.rises:
            time.sleep(0)
        samples.append((TimedPin.rises[0] - started) * 1000)
    return samples


def tap_with(reader: SimulatedReader):
    def tap(uid: str) -> None:
        reader.present(uid)
        reader.remove()

    return tap


def kiosk_run(data_dir: Path) -> list[float]:
    factory, reader = timed_factory(), SimulatedReader(absent_seconds=0)
    station = Station(
        bench_settings(data_dir), reader=reader, pin_factory=factory, connect=False
    ).start()
    try:
        station.submit(lambda s: s.store.offer("allowlist", wire.encode(big_allowlist(1000))))
        station.submit(lambda s: s.store.offer("config", wire.encode(a_config("kiosk-a", "test"))))

        def rearm(s):
            s.cancel()
            s.bank[1].lock()
            s.pick(1)

        return measure(tap_with(reader), lambda: station.submit(rearm))
    finally:
        station.stop()
        factory.reset()


def baseline_run(data_dir: Path) -> list[float]:
    factory, reader = timed_factory(), SimulatedReader(absent_seconds=0)
    settings = bench_settings(data_dir)
    bank = LockerBank.from_config(settings.lockers, pin_factory=factory)
    reader.when_card = lambda uid: bank.unlock(1)
    reader.start()
    try:
        return measure(tap_with(reader), lambda: bank[1].lock())
    finally:
        bank.close()
        reader.close()
        factory.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples",
        type=Path,
        help="also write every tap-to-relay time (ms) of both runs to this JSON file",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = baseline_run(Path(tmp) / "baseline")
        kiosk = kiosk_run(Path(tmp) / "kiosk")
    print(f"tap-to-unlock over {TAPS} taps (1,000-card allow-list)")
    print(f"  baseline (reader callback -> bank.unlock): {percentiles(baseline)}")
    print(f"  kiosk (reader -> worker -> decision -> unlock): {percentiles(kiosk)}")
    print(f"  goal: p99 < 5 ms -> {'met' if sorted(kiosk)[int(TAPS * 0.99)] < 5 else 'NOT met'}")
    if args.samples:  # for bench/run_all.py's plot
        args.samples.write_text(
            json.dumps(
                {
                    "baseline (reader callback -> bank.unlock)": baseline,
                    "kiosk (reader -> worker -> decision -> unlock)": kiosk,
                }
            )
        )


if __name__ == "__main__":
    main()
