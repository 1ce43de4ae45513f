"""A 10,000-card allow-list: from the hub publishing it to the kiosk deciding with it.

    .venv/bin/python bench/kiosk_allowlist_bench.py

A real Mosquitto; the kiosk in-process (mock pins, simulated reader). The "hub" (a paho client
as user ``hub``) publishes the allow-list retained on kiosk-a's allowlist topic; the clock
stops when a tap of the 10,000th card is answered with the member's screen. Baseline, same
run: a raw paho client (user kiosk-a) receiving the same payload. Goal: < 1 s.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.kiosk_common import a_config, bench_settings, big_allowlist, card  # noqa: E402
from broker import messages as wire  # noqa: E402
from broker.client import subscribe_and_wait  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import Channel  # noqa: E402
from kiosk.simulation import SimulatedHardware  # noqa: E402
from kiosk.station import Station  # noqa: E402

CARDS = 10_000


def raw_receive(broker: LocalBroker, hub, payload: bytes) -> float:
    """Seconds from publish to a bare paho subscriber's on_message (nothing retained yet)."""
    arrived = threading.Event()
    client = broker.connect("kiosk-a", on_message=lambda *_: arrived.set())
    subscribe_and_wait(client, broker.topic("kiosk-a", Channel.ALLOWLIST))
    started = time.perf_counter()
    hub.publish(broker.topic("kiosk-a", Channel.ALLOWLIST), payload, qos=1, retain=True)
    arrived.wait(10)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def kiosk_decides(station: Station, hub, broker: LocalBroker, payload: bytes, version: int):
    """Seconds from publish until a tap of the last card shows the member."""
    last = card(CARDS)
    started = time.perf_counter()
    hub.publish(broker.topic("kiosk-a", Channel.ALLOWLIST), payload, qos=1, retain=True)
    while station.versions[0] != version:
        time.sleep(0.001)
    station.simulation.tap(last)
    screen = station.submit(lambda s: s.screen())
    elapsed = time.perf_counter() - started
    assert screen.state == "member" and screen.member["number"] == str(CARDS), screen
    return elapsed


def main() -> None:
    first, second = big_allowlist(CARDS, version=1), big_allowlist(CARDS, version=2)
    payloads = wire.encode(first), wire.encode(second)
    print(f"allow-list of {CARDS:,} cards: {len(payloads[1]) / 1e6:.2f} MB of JSON")
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "data") as broker:
        hub = broker.connect("hub")
        raw = raw_receive(broker, hub, payloads[0])
        hub.publish(
            broker.topic("kiosk-a", Channel.CONFIG),
            wire.encode(a_config("kiosk-a", "test")),
            qos=1,
            retain=True,
        )
        settings = bench_settings(
            Path(tmp) / "kiosk",
            host=broker.host,
            port=broker.port,
            password=broker.credentials["kiosk-a"].password,
        )
        hardware = SimulatedHardware(settings.lockers)
        station = Station(
            settings, reader=hardware.reader, pin_factory=hardware.factory, simulation=hardware
        ).start()
        try:
            while station.versions != (1, 1):  # the retained version 1 arrives at subscribe
                time.sleep(0.01)
            decided = kiosk_decides(station, hub, broker, payloads[1], 2)
        finally:
            station.stop()
            hardware.close()
    print(f"  baseline (raw paho receive):            {raw * 1000:7.1f} ms")
    print(f"  kiosk (publish -> decode, store -> tap): {decided * 1000:7.1f} ms")
    print(f"  goal: < 1 s -> {'met' if decided < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
