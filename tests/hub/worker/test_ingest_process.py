"""``commonshed hub ingest`` as systemd runs it: its own process, a real NOTIFY_SOCKET.

- it tells systemd READY=1, then WATCHDOG=1 while its loops come round;
- a broker that refuses its CONNECT (bad credentials) is a failure its supervisor counts, and
  after --max-failures of them in a row the process exits with status 1, for Restart= to act.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from broker.provision import broker_paths

ROOT = Path(__file__).resolve().parents[3]


def ingest_command(database_url: str, mosquitto, broker_data: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "commonshed",
        "hub",
        "--data-dir",
        str(broker_data),
        "--database-url",
        database_url,
        "ingest",
        "--mqtt-host",
        mosquitto.host,
        "--mqtt-port",
        str(mosquitto.port),
        "--broker-data-dir",
        str(broker_data),
        *extra,
    ]


@pytest.fixture
def systemd(tmp_path):
    """A unix datagram socket where systemd's NOTIFY_SOCKET would be."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    yield path, sock
    sock.close()


def run(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )


def test_the_ingest_process_says_ready_then_beats_for_the_watchdog(
    library, database_url, mosquitto, systemd, tmp_path
):
    path, sock = systemd
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000"}  # a beat every 0.2 s
    process = run(
        ingest_command(database_url, mosquitto, mosquitto.data_dir), env, tmp_path / "ingest.log"
    )
    try:
        assert sock.recv(100) == b"READY=1"
        assert [sock.recv(100) for _ in range(3)] == [b"WATCHDOG=1"] * 3
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0, (tmp_path / "ingest.log").read_text()


def test_a_refused_connect_counted_max_failures_times_ends_the_process_with_status_1(
    library, database_url, mosquitto, tmp_path
):
    wrong = tmp_path / "wrong-password"
    credentials = json.loads(
        broker_paths(mosquitto.data_dir).credentials("hub").read_text(encoding="utf-8")
    )
    broker_paths(wrong).credentials("hub").write_text(
        json.dumps({**credentials, "password": "not-the-password"}), encoding="utf-8"
    )
    log = tmp_path / "ingest.log"
    process = run(ingest_command(database_url, mosquitto, wrong, "--max-failures", "3"), {}, log)
    try:
        status = process.wait(120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert status == 1, output
    assert "the broker loop failed 3 times in a row" in output
    assert "ConnectRefused" in output and "gave up" in output
