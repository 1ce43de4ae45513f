"""A real kiosk process (``commonshed kiosk simulate``) driven through its screen's HTTP API,
and the hub's side of a test: registered kiosk, member, tools, and a running ingest worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from broker.local import LocalBroker
from broker.runner import free_port
from hub.infra.db import reading, transaction
from hub.worker.loop import IngestWorker
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_kiosk, a_member, a_tool

ROOT = Path(__file__).resolve().parents[2]
CARD = "DEADBEEF"
STEWARD_CARD = "0A0B0C0D"


def stock_library(engine) -> None:
    """kiosk-a at site "test" with lockers 1-2, DRILL-1 in locker 1, Ada and a steward."""
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=2, site="test")
        a_member(session, "Ada Lovelace", uid=CARD)
        a_member(session, "Sam Steward", uid=STEWARD_CARD, roles="member,steward")
        a_tool(session, "DRILL-1", kiosk_id="kiosk-a", slot=1)


def start_hub(engine, mosquitto: LocalBroker) -> IngestWorker:
    """Start the hub's ingest worker; it reconnects within 2 s (tests stop the broker)."""
    hub = mosquitto.credentials["hub"]
    worker = IngestWorker(
        engine,
        host=mosquitto.host,
        port=mosquitto.port,
        username=hub.username,
        password=hub.password,
        publish_interval=0.05,
    )
    worker.client.reconnect_delay_set(1, 2)
    return worker.start()


def count(engine, table, *where) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


class KioskProcess:
    """``commonshed kiosk simulate`` as a subprocess, with its screen's API as a client."""

    def __init__(
        self,
        mosquitto: LocalBroker,
        data_dir: Path,
        log_path: Path,
        *options: str,
        kiosk_id: str = "kiosk-a",
        site: str = "test",
    ) -> None:
        self.mosquitto, self.data_dir, self.log_path = mosquitto, data_dir, log_path
        self.kiosk_id, self.site = kiosk_id, site
        self.options = options  # more `kiosk simulate` options, e.g. "--clock-skew", "3600"
        self.port = free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> KioskProcess:
        command = [
            sys.executable,
            "-m",
            "commonshed",
            "kiosk",
            "simulate",
            "--kiosk-id",
            self.kiosk_id,
            "--site",
            self.site,
            "--mqtt-host",
            self.mosquitto.host,
            "--mqtt-port",
            str(self.mosquitto.port),
            "--broker-data-dir",
            str(self.mosquitto.data_dir),
            "--screen-port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.options,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        wait_until(self._answers, 60, "the kiosk screen answering")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the kiosk exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            return self.screen()["state"] != "starting"
        except urllib.error.HTTPError as error:
            error.close()  # it holds the response's socket: an unclosed one warns at GC
            return False
        except OSError:  # URLError included
            return False

    def screen(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/screen", timeout=5) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["screen"]
        except urllib.error.HTTPError as error:
            with error:  # it holds the response's socket
                raise AssertionError(f"{path}: {error.code} {error.read().decode()}") from None

    def tap(self, uid: str) -> dict[str, Any]:
        return self.post("/api/sim/tap", {"uid": uid})

    def act(self, action: str, **body: Any) -> dict[str, Any]:
        return self.post(f"/api/actions/{action}", body)

    def door(self, slot: int, open_: bool) -> dict[str, Any]:
        return self.post("/api/sim/door", {"slot": slot, "open": open_})

    def use_locker(self, slot: int) -> dict[str, Any]:
        """Open the unlocked door and shut it again."""
        self.door(slot, True)
        return self.door(slot, False)

    def kiosk(self) -> dict[str, Any]:
        return self.screen()["kiosk"]

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; return its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing flushed that was not already on disk."""
        self.process.kill()
        self.process.wait(10)
