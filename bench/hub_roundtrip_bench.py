"""Kiosk -> hub -> kiosk request/response round trip through the project's Mosquitto.

    .venv/bin/python bench/hub_roundtrip_bench.py [--count 2000] [--warmup 200]

A kiosk-a client publishes a request (QoS 1, MQTT v5 Response Topic + Correlation Data) and
waits for the answer, matched on its correlation data: the same lean requester, which decodes
nothing while timing, for every responder. Measured in one run, on one broker, one after the
other:

- bare echo:      a paho client sends each request's bytes straight back to its response
                  topic on its network thread, decoding nothing (the floor;
                  ``bench/mqtt_roundtrip.py``'s ``BareEcho``);
- member_status:  the hub's IngestWorker answers (from the allow-list it keeps in memory);
- tool_status:    the hub's IngestWorker answers from the database (a read transaction);
- bare echo again: to show how much the machine drifted during the run.

Each hub answer is decoded and checked once before its timing starts.

The hub runs in this process on a migrated temporary SQLite with kiosk-a registered, a member
with a card and a tool. Goal: member_status p50 within 1.5x of the bare echo.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import paho.mqtt.client as mqtt  # noqa: E402
from mqtt_roundtrip import BareEcho, RoundtripStats, measure_roundtrip  # noqa: E402

from broker import messages as wire  # noqa: E402
from broker.client import request_properties, subscribe_and_wait  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.topics import Channel, kiosk_topic  # noqa: E402
from hub.infra import migrate
from hub.infra.db import make_engine, transaction
from hub.inventory.registry import add_locker, add_tool, register_kiosk
from hub.members.roster import add_member, assign_card
from hub.worker.loop import IngestWorker

KIOSK = "kiosk-a"
CARD = "DEADBEEF"
TOOL = "DRILL-1"


class Asker:
    """The kiosk side: publish a request, block until the response with its correlation data
    arrives; the last response is kept as bytes (``last`` decodes it, outside the timing)."""

    def __init__(self, client: mqtt.Client, site: str, *, timeout: float = 5.0) -> None:
        self.client, self.timeout = client, timeout
        self.request_topic = kiosk_topic(site, KIOSK, Channel.REQUESTS)
        self.response_topic = kiosk_topic(site, KIOSK, Channel.RESPONSES)
        self._answered = threading.Event()
        self._waiting_for = b""
        self.last_payload: bytes | None = None
        client.on_message = self._receive
        subscribe_and_wait(client, self.response_topic)

    def asking(self, make: Callable[[str], wire.Message]) -> Callable[[], None]:
        """Return a function that asks one question built by ``make(request_id)``."""

        def ask() -> None:
            request = make(wire.new_message_id())
            correlation = request.request_id.encode()
            self._waiting_for = correlation
            self._answered.clear()
            self.client.publish(
                self.request_topic,
                wire.encode(request),
                qos=1,
                properties=request_properties(self.response_topic, correlation),
            )
            if not self._answered.wait(self.timeout):
                raise TimeoutError(f"no response to {request.request_id} in {self.timeout} s")

        return ask

    @property
    def last(self) -> wire.Response | None:
        """The last response, decoded (call it outside the timed loop)."""
        return None if self.last_payload is None else wire.decode_response(self.last_payload)

    def _receive(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        # Match on the echoed correlation data, as a kiosk would; decode nothing here.
        if getattr(message.properties, "CorrelationData", None) == self._waiting_for:
            self.last_payload = message.payload
            self._answered.set()


def member_status(request_id: str) -> wire.MemberStatusRequest:
    return wire.MemberStatusRequest(request_id=request_id, params=wire.CardParams(card_uid=CARD))


def tool_status(request_id: str) -> wire.ToolStatusRequest:
    return wire.ToolStatusRequest(request_id=request_id, params=wire.ToolParams(tool_code=TOOL))


def balance(request_id: str) -> wire.BalanceRequest:  # what the bare echo is asked
    return wire.BalanceRequest(request_id=request_id, params=wire.CardParams(card_uid=CARD))


def seeded_sqlite(path: Path, site: str):
    """Return an engine on a migrated SQLite with kiosk-a, a member with a card and a tool."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        register_kiosk(session, KIOSK, site=site, name="Bench kiosk")
        for slot in (1, 2):
            add_locker(session, KIOSK, slot)
        member = add_member(session, name="Ada Lovelace")
        assign_card(session, member.id, CARD)
        add_tool(
            session,
            code=TOOL,
            name="Cordless drill",
            category="power tools",
            kiosk_id=KIOSK,
            slot=1,
        )
    return engine


def measure_echo(broker: LocalBroker, asker: Asker, count: int, warmup: int) -> RoundtripStats:
    responder = broker.connect("hub", client_id="bare-echo")
    try:
        BareEcho(responder)
        return measure_roundtrip(asker.asking(balance), count=count, warmup=warmup)
    finally:  # a clean session: its share of $share/hub/... requests goes with it
        responder.disconnect()
        responder.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--samples",
        type=Path,
        help="also write every round trip (ms) of each responder to this JSON file",
    )
    args = parser.parse_args()
    results: list[tuple[str, RoundtripStats]] = []
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "data") as broker:
        engine = seeded_sqlite(Path(tmp) / "hub.db", broker.site)
        asker = Asker(broker.connect(KIOSK), broker.site)
        results.append(("bare echo", measure_echo(broker, asker, args.count, args.warmup)))

        hub = broker.credentials["hub"]
        worker = IngestWorker(
            engine,
            host=broker.host,
            port=broker.port,
            username=hub.username,
            password=hub.password,
            client_id="hub-bench",
        ).start()
        try:
            deadline = time.monotonic() + 10
            while worker.allowlist is None:  # member_status is answered from it once published
                if time.monotonic() > deadline:
                    raise TimeoutError("the worker published no allow-list in 10 s")
                time.sleep(0.05)
            for name, make in (
                ("hub member_status (allow-list in memory)", member_status),
                ("hub tool_status (database read)", tool_status),
            ):
                ask = asker.asking(make)
                ask()
                if asker.last is None or not asker.last.ok:
                    raise RuntimeError(f"{name}: the hub answered {asker.last}")
                results.append((name, measure_roundtrip(ask, count=args.count, warmup=args.warmup)))
        finally:
            worker.stop()
            engine.dispose()
            # NOTE: Mosquitto keeps giving an offline persistent session its share of a shared
            # subscription; end the worker's session, or the next echo run loses half its requests.
            ended = broker.connect("hub", client_id="hub-bench", clean_start=True)
            ended.disconnect()
            ended.loop_stop()
        results.append(("bare echo, again", measure_echo(broker, asker, args.count, args.warmup)))

    echo = results[0][1]
    print(
        f"Request/response round trip, kiosk-a -> Mosquitto -> hub -> kiosk-a, QoS 1, "
        f"{args.count} round trips after {args.warmup} warm-up"
    )
    print(
        f"{'responder':<42} {'p50 ms':>7} {'p99 ms':>7} {'mean ms':>8} {'max ms':>7} "
        f"{'p50/echo':>9} {'p99/echo':>9}"
    )
    for name, stats in results:
        print(
            f"{name:<42} {stats.p50_ms:>7.3f} {stats.p99_ms:>7.3f} {stats.mean_ms:>8.3f} "
            f"{stats.max_ms:>7.2f} {stats.p50_ms / echo.p50_ms:>8.2f}x "
            f"{stats.p99_ms / echo.p99_ms:>8.2f}x"
        )
    if args.samples:
        write_samples(args.samples, results)


def write_samples(path: Path, results: list[tuple[str, RoundtripStats]]) -> None:
    """Write {responder: [round trip ms, ...]} to ``path`` (for bench/run_all.py's plot)."""
    path.write_text(json.dumps({name: list(stats.samples) for name, stats in results}))


if __name__ == "__main__":
    main()
