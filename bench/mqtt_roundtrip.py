"""Request/response round trip through the project's Mosquitto, raw paho on both sides.

    .venv/bin/python bench/mqtt_roundtrip.py [--count 2000]

A kiosk-a client publishes a request (QoS 1, MQTT v5 response topic + correlation data) and
waits for the response; a bare echo on the hub side sends the request's bytes straight back to
its response topic (``BareEcho``). This is the floor the hub's own request handler is measured
against (``bench/hub_roundtrip_bench.py``, with the same lean requester).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402

from broker.client import reply_properties, request_properties, subscribe_and_wait  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.messages import (  # noqa: E402
    BalanceRequest,
    CardParams,
    encode,
    new_message_id,
)
from broker.topics import HUB_REQUESTS_SHARED, Channel, kiosk_topic  # noqa: E402


@dataclass(frozen=True)
class RoundtripStats:
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    # Every round trip (ms, sorted), for distribution plots; left out of equality and repr.
    samples: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.count} round trips: p50 {self.p50_ms:.3f} ms, p99 {self.p99_ms:.3f} ms, "
            f"mean {self.mean_ms:.3f} ms, max {self.max_ms:.3f} ms"
        )


def measure_roundtrip(
    publish_request: Callable[[], object], *, count: int = 2000, warmup: int = 200
) -> RoundtripStats:
    """Time ``count`` calls of ``publish_request``, which must return once its response is in."""
    for _ in range(warmup):
        publish_request()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        publish_request()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return RoundtripStats(
        count=count,
        p50_ms=statistics.median(samples),
        p99_ms=samples[min(count - 1, int(count * 0.99))],
        mean_ms=statistics.fmean(samples),
        max_ms=samples[-1],
        samples=tuple(samples),
    )


class BareEcho:
    """The hub side with nothing behind it: send every request's bytes straight back to its
    MQTT v5 response topic, correlation data echoed, on paho's thread (no decoding)."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        client.on_message = self._echo
        subscribe_and_wait(client, HUB_REQUESTS_SHARED)

    def _echo(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        client.publish(
            message.properties.ResponseTopic,
            message.payload,
            qos=1,
            properties=reply_properties(message),
        )


class Requester:
    """The kiosk side: publish a request, block until the response with its correlation data
    arrives (matched on the MQTT v5 property: nothing is decoded while timing)."""

    def __init__(self, client: mqtt.Client, site: str, kiosk_id: str, *, timeout: float = 5.0):
        self.client = client
        self.timeout = timeout
        self.request_topic = kiosk_topic(site, kiosk_id, Channel.REQUESTS)
        self.response_topic = kiosk_topic(site, kiosk_id, Channel.RESPONSES)
        self._answered = threading.Event()
        self._waiting_for = b""
        client.on_message = self._receive
        subscribe_and_wait(client, self.response_topic)

    def request(self) -> None:
        """Ask one balance question and wait for its answer."""
        request = BalanceRequest(
            request_id=new_message_id(), params=CardParams(card_uid="04A1B2C3")
        )
        self._waiting_for = request.request_id.encode()
        self._answered.clear()
        self.client.publish(
            self.request_topic,
            encode(request),
            qos=1,
            properties=request_properties(self.response_topic, request.request_id.encode()),
        )
        if not self._answered.wait(self.timeout):
            raise TimeoutError(f"no response to {request.request_id} in {self.timeout} s")

    def _receive(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if getattr(message.properties, "CorrelationData", None) == self._waiting_for:
            self._answered.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, LocalBroker(data_dir) as broker:
        BareEcho(broker.connect("hub"))
        requester = Requester(broker.connect("kiosk-a"), broker.site, "kiosk-a")
        stats = measure_roundtrip(requester.request, count=args.count, warmup=args.warmup)
    print(f"bare paho echo via Mosquitto (QoS 1, TCP_NODELAY both sides): {stats}")


if __name__ == "__main__":
    main()
