"""Kiosk process memory: RSS idle, and after 10,000 events through the outbox.

    .venv/bin/python bench/kiosk_memory_bench.py

Runs ``commonshed kiosk simulate`` against a real Mosquitto; a stand-in hub (a paho client
as user ``hub``) publishes its allow-list and config and acks every event ``applied``. The
events are door_forced/door_closed pairs made by opening and shutting a door through the
screen's simulation API. Baseline, same run: ``python -c "import paho.mqtt.client"``.
Goal: < 60 MB.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kiosk_common import a_config, big_allowlist  # noqa: E402
from broker import messages as wire  # noqa: E402
from broker.local import LocalBroker  # noqa: E402
from broker.runner import free_port  # noqa: E402
from broker.topics import Channel  # noqa: E402

EVENTS = 10_000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def baseline_rss() -> float:
    code = "import paho.mqtt.client, sys; sys.stdout.write('ok\\n'); sys.stdout.flush(); input()"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    process.stdout.readline()
    try:
        return rss_mb(process.pid)
    finally:
        process.communicate(b"\n")


def fake_hub(broker: LocalBroker):
    """Connect as the hub: retained allow-list and config, and an ack for every event."""

    def on_message(client, _userdata, message):
        event = wire.decode_event(message.payload)
        ack = wire.EventAck(event_id=event.event_id, status="applied")
        client.publish(broker.topic("kiosk-a", Channel.ACKS), wire.encode(ack), qos=1)

    hub = broker.connect("hub", on_message=on_message)
    hub.subscribe(broker.topic("kiosk-a", Channel.EVENTS), qos=1)
    for snapshot in (big_allowlist(100), a_config("kiosk-a", "test")):
        hub.publish(
            broker.topic("kiosk-a", snapshot.channel), wire.encode(snapshot), qos=1, retain=True
        )
    return hub


class Screen:
    """The kiosk screen's API over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, path: str) -> dict:
        self.connection.request("GET", path)
        return json.loads(self.connection.getresponse().read())

    def post(self, path: str, body: dict) -> dict:
        self.connection.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json"}
        )
        return json.loads(self.connection.getresponse().read())


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)
    return value


def run_kiosk(broker: LocalBroker, tmp: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "commonshed",
        "kiosk",
        "simulate",
        "--kiosk-id",
        "kiosk-a",
        "--site",
        "test",
        "--mqtt-host",
        broker.host,
        "--mqtt-port",
        str(broker.port),
        "--broker-data-dir",
        str(broker.data_dir),
        "--screen-port",
        str(port),
        "--data-dir",
        str(tmp / "kiosk"),
    ]
    with (tmp / "kiosk.log").open("wb") as log:
        kiosk = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        measure(kiosk, port)
    finally:
        kiosk.terminate()
        kiosk.wait(15)


def measure(kiosk: subprocess.Popen, port: int) -> None:
    def ready():
        try:
            return Screen(port).get("/api/screen")["kiosk"]["allowlist_version"]
        except OSError:
            return None

    wait_for(ready, 30, "the kiosk syncing")
    time.sleep(1)
    idle = rss_mb(kiosk.pid)
    screen, started = Screen(port), time.perf_counter()
    for _ in range(EVENTS // 2):
        screen.post("/api/sim/door", {"slot": 2, "open": True})
        screen.post("/api/sim/door", {"slot": 2, "open": False})
    made = time.perf_counter() - started
    wait_for(lambda: screen.get("/api/screen")["kiosk"]["backlog"] == 0, 120, "acks")
    drained = time.perf_counter() - started
    view = screen.get("/api/screen")["kiosk"]
    print(f"kiosk RSS idle:                 {idle:6.1f} MB")
    print(
        f"kiosk RSS after {view['next_seq']:,} events: {rss_mb(kiosk.pid):6.1f} MB "
        f"(events made in {made:.1f} s, all acked after {drained:.1f} s)"
    )


def main() -> None:
    print(f"baseline python + paho RSS:     {baseline_rss():6.1f} MB")
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "data") as broker:
        fake_hub(broker)
        run_kiosk(broker, Path(tmp))
    print("goal: < 60 MB")


if __name__ == "__main__":
    main()
