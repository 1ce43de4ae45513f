"""Benchmark the MCP23017 door poll's own work, against the emulated chips.

What it measures: the Python cost of one ``ExpanderBus.poll()`` (3 register reads per chip
and the edge bookkeeping, no door changing) for 2 and 4 chips, over the emulated bus. What it
cannot measure: the I2C bus time on a Pi (about 0.4 ms per register read at 100 kHz, computed
from the framing in hardware/wiring-16.md), nor a Pi's slower CPU. Say how loaded the machine
was beside any figure.

    .venv/bin/python bench/mcp23017_poll_bench.py              # 2000 polls each
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from devices.lockers.emulated_mcp23017 import EmulatedI2cBus, EmulatedMcp23017
from devices.lockers.mcp23017 import ExpanderBus


def poll_times(chips: int, polls: int) -> list[float]:
    """Return the seconds each of ``polls`` polls of ``chips`` set-up chips took."""
    emulated = EmulatedI2cBus()
    bus = ExpanderBus(emulated, poll_seconds=3600)  # polled by hand, not by its thread
    for n in range(chips):
        emulated.attach(EmulatedMcp23017(0x20 + n))
        bus.chip(0x20 + n)
    times = []
    for _ in range(polls):
        start = time.perf_counter()
        bus.poll()
        times.append(time.perf_counter() - start)
    bus.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for chips in (2, 4):
        times = poll_times(chips, args.polls)
        median = statistics.median(times) * 1e6
        p99 = statistics.quantiles(times, n=100)[98] * 1e6
        share = statistics.median(times) / 0.02 * 100
        print(
            f"{chips} chips ({8 * chips} lockers): poll median {median:.0f} us, p99 {p99:.0f} us "
            f"= {share:.2f} % of one CPU at 50 polls/s (emulated bus, no I2C time)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
