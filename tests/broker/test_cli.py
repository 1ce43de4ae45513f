"""broker.cli: ``commonshed broker provision-kiosk`` and ``commonshed broker run``."""

import json
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from broker.cli import broker
from broker.client import connect_and_wait, make_client
from broker.provision import load_credentials
from broker.runner import free_port, port_accepts
from tests.fixtures.waiting import wait_until


def test_provision_kiosk_prints_what_the_kiosk_needs(tmp_path):
    result = CliRunner().invoke(
        broker,
        [
            "provision-kiosk",
            "kiosk-a",
            "--site",
            "north",
            "--data-dir",
            str(tmp_path),
            "--host",
            "hub.lan",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)
    stored = load_credentials(tmp_path, "kiosk-a")
    assert settings["mqtt"] == {
        "host": "hub.lan",
        "port": 1883,
        "username": "kiosk-a",
        "password": stored.password,
        "client_id": "kiosk-a",
    }
    assert (settings["site"], settings["kiosk_id"]) == ("north", "kiosk-a")
    assert settings["topics"]["events"] == "commonshed/v1/north/kiosk/kiosk-a/events"
    assert len(settings["topics"]) == 7


def test_provision_kiosk_uses_the_data_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONSHED_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(broker, ["provision-kiosk", "kiosk-a"]).exit_code == 0
    assert load_credentials(tmp_path, "kiosk-a").site == "main"


def test_provision_kiosk_refuses_a_bad_id_saying_why(tmp_path):
    result = CliRunner().invoke(broker, ["provision-kiosk", "Kiosk_A", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "lowercase letters, digits or '-'" in result.output


def test_revoke_kiosk(tmp_path):
    runner = CliRunner()
    runner.invoke(broker, ["provision-kiosk", "kiosk-a", "--data-dir", str(tmp_path)])
    assert (
        runner.invoke(broker, ["revoke-kiosk", "kiosk-a", "--data-dir", str(tmp_path)]).exit_code
        == 0
    )
    again = runner.invoke(broker, ["revoke-kiosk", "kiosk-a", "--data-dir", str(tmp_path)])
    assert again.exit_code == 1
    assert "has no broker credentials" in again.output


@pytest.fixture
def broker_run(tmp_path):
    """Run ``broker run`` in a process of its own; yield (process, port); stop it after."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from broker.cli import broker; broker()",
        "run",
        "--data-dir",
        str(tmp_path),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process, port
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def test_run_starts_mosquitto_with_hub_credentials_and_ctrl_c_stops_it(broker_run, tmp_path):
    process, port = broker_run
    wait_until(
        lambda: port_accepts("127.0.0.1", port) or process.poll() is not None,
        5,
        "Mosquitto listening (or exiting)",
    )
    assert process.poll() is None, process.stderr.read().decode()
    hub = load_credentials(tmp_path, "hub")
    client = make_client("hub-test", hub.username, hub.password, host="127.0.0.1", port=port)
    connect_and_wait(client)
    client.disconnect()
    client.loop_stop()

    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    log = process.stderr.read().decode()
    assert "Mosquitto on 127.0.0.1:" in log
    assert "Saving in-memory database" in log
