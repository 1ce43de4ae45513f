"""After a broker restart the kiosks reconnect before the hub: what they resend meanwhile has
no subscriber and is dropped (Mosquitto 2.0.11 does not restore the hub's shared subscription
from its persistence). The hub's retained status says when it is back; a kiosk resends then,
instead of waiting for its ack timeout."""

from __future__ import annotations

from broker import messages as wire
from kiosk.config import MqttSettings
from kiosk.link import Link
from kiosk.outbox import Outbox
from tests.fixtures.waiting import wait_until
from tests.hub.worker.test_supervised_ingest import make_worker

NEVER = 3600.0  # an ack timeout that never runs out within the test: only the hub's status helps


def test_a_kiosk_resends_when_the_hub_comes_back_after_a_broker_restart(
    library, mosquitto, tmp_path
):
    worker = make_worker(library, mosquitto).start()
    credentials = mosquitto.credentials["kiosk-a"]
    settings = MqttSettings(
        host=mosquitto.host,
        port=mosquitto.port,
        username=credentials.username,
        password=credentials.password,
    )
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    link = Link(
        kiosk_id="kiosk-a",
        site="test",
        mqtt_settings=settings,
        outbox_path=tmp_path / "outbox.db",
        on_snapshot=lambda *args: None,
        versions=lambda: (None, None),
        ack_timeout=NEVER,
    )
    link.client.reconnect_delay_set(1, 1)
    body = wire.CardRefused(card_uid="CAFEBABE", reason="unknown_card")
    try:
        link.start()
        outbox.record(wire.CardRefusedEvent, body)
        link.wake()
        wait_until(lambda: outbox.backlog() == 0, 20, "the first event acked")
        worker.stop()  # the hub comes back after the kiosk
        mosquitto.stop()
        for _ in range(10):
            outbox.record(wire.CardRefusedEvent, body)
        link.wake()
        mosquitto.start()
        reconnects = link.figures.connects
        wait_until(lambda: link.figures.connects > reconnects, 30, "the kiosk reconnecting")
        wait_until(lambda: link.figures.published >= 11, 30, "the kiosk resending its backlog")
        worker = make_worker(library, mosquitto).start()  # same client id: same session
        wait_until(lambda: outbox.backlog() == 0, 60, "the backlog acked once the hub is back")
    finally:
        link.stop()
        outbox.close()
        worker.stop()
