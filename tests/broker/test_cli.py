"""broker.cli: ``commonshed broker provision-kiosk`` and ``commonshed broker run``."""

import json
import signal
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from broker.cli import broker
from broker.client import ConnectRefused, connect_and_wait, make_client, subscribe_and_wait
from broker.local import LocalBroker
from broker.provision import broker_paths, load_credentials
from broker.runner import free_port, port_accepts
from broker.topics import HUB_EVENTS_SHARED
from tests.fixtures.waiting import wait_until

NOT_AUTHORIZED = 135


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


def a_password_file_install(data_dir) -> dict[str, str]:
    """Lay out ``data_dir`` as `commonshed broker` did before the plugin; return the passwords.

    kiosk-a was provisioned at site north (its credentials file says so); kiosk-old's
    credentials file was lost; ``ops_user`` was added by hand with mosquitto_passwd.
    """
    root = data_dir / "broker"
    (root / "credentials").mkdir(parents=True)
    passwords = {"hub": "hub-secret", "kiosk-a": "a-secret", "kiosk-old": "old-secret"}
    passwd = root / "passwd"
    for user, password in [*passwords.items(), ("ops_user", "ops-secret")]:
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, password], check=True)
    for user, site in (("hub", None), ("kiosk-a", "north")):
        stored = {"username": user, "password": passwords[user], "site": site, "created_at": None}
        (root / "credentials" / f"{user}.json").write_text(json.dumps(stored))
    (root / "acl").write_text("pattern read commonshed/v1/+/kiosk/%u/acks\n")
    return passwords


def test_migrate_to_dynsec_keeps_every_kiosks_password_and_confines_it(tmp_path):
    passwords = a_password_file_install(tmp_path)
    result = CliRunner().invoke(broker, ["migrate-to-dynsec", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "migrated hub: hub",
        "migrated kiosk-a: kiosk at site north, client id kiosk-a",
        "migrated kiosk-old: kiosk at any site (no site recorded), client id kiosk-old",
        "migrated ops_user: skipped, not a kiosk id (add it by hand with mosquitto_ctrl)",
    ]
    paths = broker_paths(tmp_path)
    assert not paths.passwd.exists() and not paths.acl.exists()
    assert (paths.root / "passwd.migrated").exists()
    again = CliRunner().invoke(broker, ["migrate-to-dynsec", "--data-dir", str(tmp_path)])
    assert again.output == "Nothing to migrate: no password file with users.\n"

    with LocalBroker(tmp_path, kiosks=["kiosk-a"], site="north") as running:
        assert running.credentials["kiosk-a"].password == passwords["kiosk-a"]
        kiosk_a = running.connect("kiosk-a")
        own = "commonshed/v1/north/kiosk/kiosk-a/acks"
        assert subscribe_and_wait(kiosk_a, own).value == 1
        assert subscribe_and_wait(kiosk_a, HUB_EVENTS_SHARED).value == NOT_AUTHORIZED
        old = running.connect("kiosk-old", password=passwords["kiosk-old"], client_id="kiosk-old")
        assert subscribe_and_wait(old, "commonshed/v1/east/kiosk/kiosk-old/acks").value == 1
        assert (
            subscribe_and_wait(old, "commonshed/v1/east/kiosk/kiosk-a/acks").value == NOT_AUTHORIZED
        )
        with pytest.raises(ConnectRefused):
            running.connect("kiosk-old", password=passwords["kiosk-old"], client_id="kiosk-a")
        with pytest.raises(ConnectRefused):
            running.connect("ops_user", password="ops-secret")
        assert running.connect("hub", password=passwords["hub"]).is_connected()


def test_broker_run_migrates_a_password_file_install_by_itself(tmp_path):
    passwords = a_password_file_install(tmp_path)
    port = free_port()
    command = [sys.executable, "-m", "commonshed", "broker", "run"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: port_accepts("127.0.0.1", port) or process.poll() is not None,
            10,
            "Mosquitto listening (or exiting)",
        )
        assert process.poll() is None, process.stderr.read().decode()
        kiosk = make_client(
            "kiosk-old", "kiosk-old", passwords["kiosk-old"], host="127.0.0.1", port=port
        )
        connect_and_wait(kiosk)
        kiosk.disconnect()
        kiosk.loop_stop()
    finally:
        process.terminate()
        process.wait(10)
    log = process.stderr.read().decode()
    process.stderr.close()
    assert "migrated from the password file: kiosk-old: kiosk at any site" in log


def test_provision_and_revoke_drive_a_running_broker(mosquitto):
    runner = CliRunner()
    data_dir = str(mosquitto.data_dir)
    provisioned = runner.invoke(
        broker, ["provision-kiosk", "kiosk-c", "--site", mosquitto.site, "--data-dir", data_dir]
    )
    assert provisioned.exit_code == 0, provisioned.output
    assert "The running broker took the kiosk's credentials." in provisioned.stderr
    password = json.loads(provisioned.stdout)["mqtt"]["password"]
    kiosk_c = mosquitto.connect("kiosk-c", password=password, client_id="kiosk-c")
    dropped = threading.Event()
    kiosk_c.on_disconnect = lambda *_args: dropped.set()

    revoked = runner.invoke(broker, ["revoke-kiosk", "kiosk-c", "--data-dir", data_dir])

    assert revoked.exit_code == 0, revoked.output
    assert "is disconnected if it was connected, and can no longer log in" in revoked.output
    assert dropped.wait(5)
    with pytest.raises(ConnectRefused):
        mosquitto.connect("kiosk-c", password=password, client_id="kiosk-c")
