"""Raw paho QoS 1 receive rate through the project's Mosquitto, one kiosk to one hub client.

    .venv/bin/python bench/mqtt_ingest_baseline.py [--count 20000] [--size 100]

The ceiling the hub's ingest worker (decode, transaction, ack) will be compared with: here the
hub side only counts messages on the shared events subscription.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402

from broker.client import subscribe_and_wait  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import HUB_EVENTS_SHARED, Channel  # noqa: E402


class Counter:
    """Count messages on paho's thread; signal when ``expected`` have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received = 0
        self.done = threading.Event()

    def on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        if self.received == self.expected:
            self.done.set()


def measure_ingest(broker: LocalBroker, *, count: int, size: int, timeout: float = 120.0) -> float:
    """Return the messages per second a raw hub subscriber receives from one kiosk."""
    counter = Counter(count)
    hub = broker.connect("hub")
    hub.on_message = counter.on_message
    subscribe_and_wait(hub, HUB_EVENTS_SHARED)
    kiosk = broker.connect("kiosk-a")
    topic = broker.topic("kiosk-a", Channel.EVENTS)
    payload = b"x" * size
    started = time.perf_counter()
    for _ in range(count):
        kiosk.publish(topic, payload, qos=1)
    if not counter.done.wait(timeout):
        raise TimeoutError(f"only {counter.received} of {count} messages in {timeout} s")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, LocalBroker(data_dir) as broker:
        rate = measure_ingest(broker, count=args.count, size=args.size)
    print(f"raw paho QoS 1, 1 -> 1, {args.count} x {args.size}-byte messages: {rate:,.0f} msg/s")


if __name__ == "__main__":
    main()
