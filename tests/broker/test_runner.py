"""broker.runner and broker.local: start, stop, kill, restart, reload, persistence."""

import pytest

from broker.examples import EXAMPLES
from broker.messages import decode_allowlist, encode
from broker.provision import provision_kiosk
from broker.runner import BrokerFailed, MosquittoProcess, free_port, port_accepts
from broker.topics import Channel
from tests.broker.test_dynsec import publish_and_wait
from tests.fixtures.mosquitto import collect
from tests.fixtures.waiting import wait_until


def publish_retained_allowlist(mosquitto) -> None:
    topic = mosquitto.topic("kiosk-a", Channel.ALLOWLIST)
    publish_and_wait(mosquitto.connect("hub"), topic, encode(EXAMPLES["allowlist"]), retain=True)


def retained_allowlist(mosquitto):
    inbox = collect(mosquitto.connect("kiosk-a"), mosquitto.topic("kiosk-a", Channel.ALLOWLIST))
    return decode_allowlist(inbox.get().payload)


def test_the_broker_listens_where_it_says(mosquitto):
    assert mosquitto.process.running
    assert port_accepts(mosquitto.host, mosquitto.port)
    assert "Config loaded from" in mosquitto.log_text()


def test_stop_then_start_keeps_retained_messages(mosquitto):
    publish_retained_allowlist(mosquitto)
    mosquitto.stop()
    assert not port_accepts(mosquitto.host, mosquitto.port)
    mosquitto.start()
    assert retained_allowlist(mosquitto) == EXAMPLES["allowlist"]


def test_after_sigkill_the_last_snapshot_survives(mosquitto):
    publish_retained_allowlist(mosquitto)
    snapshot = mosquitto.paths.persistence_dir / "mosquitto.db"
    mosquitto.process.save()
    wait_until(snapshot.exists, 5, "the snapshot file")
    mosquitto.kill()
    assert not mosquitto.process.running
    mosquitto.start()
    assert retained_allowlist(mosquitto) == EXAMPLES["allowlist"]


def test_a_reload_and_a_restart_keep_a_kiosk_provisioned_while_running(mosquitto):
    credentials = provision_kiosk(mosquitto.data_dir, "kiosk-c", site=mosquitto.site)
    mosquitto.credentials["kiosk-c"] = credentials
    mosquitto.process.reload()
    wait_until(lambda: "Reloading config" in mosquitto.log_text(), 5, "the reload in the log")
    assert mosquitto.connect("kiosk-c").is_connected()
    mosquitto.restart()
    assert mosquitto.connect("kiosk-c").is_connected()


def test_a_broken_config_fails_with_the_log(tmp_path):
    config = tmp_path / "broken.conf"
    config.write_text("listener 1 2 3 4\nno_such_option yes\n")
    process = MosquittoProcess(
        config, host="127.0.0.1", port=free_port(), log_path=tmp_path / "log"
    )
    with pytest.raises(BrokerFailed, match="Mosquitto exited"):
        process.start(timeout=5)
    assert not process.running


def test_a_taken_port_fails_even_though_it_accepts(mosquitto, tmp_path):
    config = tmp_path / "twin.conf"
    config.write_text(f"listener {mosquitto.port} {mosquitto.host}\nallow_anonymous true\n")
    twin = MosquittoProcess(
        config, host=mosquitto.host, port=mosquitto.port, log_path=tmp_path / "twin.log"
    )
    try:
        with pytest.raises(BrokerFailed, match="Address already in use"):
            twin.start(timeout=5)
    finally:
        twin.kill()
    twin.stop()
