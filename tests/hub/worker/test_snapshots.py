"""Allow-lists and configs: built from the records, published retained when they changed."""

from __future__ import annotations

from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest

from broker import messages as wire
from broker.topics import Channel, kiosk_topic
from hub.infra.db import transaction
from hub.inventory.registry import Kiosk
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.worker.snapshots import SnapshotPublisher
from tests.hub.builders import a_kiosk, a_member, a_tool

CARD = "DEADBEEF"


@dataclass
class Sent:
    rc: int


@dataclass
class FakeClient:
    """Records what would be published; ``refuse`` makes paho's publish fail (not connected)."""

    published: list[tuple[str, bytes, int, bool]] = field(default_factory=list)
    refuse: bool = False

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> Sent:
        if self.refuse:
            return Sent(mqtt.MQTT_ERR_NO_CONN)
        self.published.append((topic, payload, qos, retain))
        return Sent(mqtt.MQTT_ERR_SUCCESS)

    def topics(self) -> list[str]:
        topics = [topic for topic, *_ in self.published]
        self.published.clear()
        return topics


@pytest.fixture
def library(engine):
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=2, site="test")
        a_kiosk(session, "kiosk-b", slots=1, site="test")
        a_member(session, "Ada Lovelace", uid=CARD)
        a_tool(session, "DRILL-1", kiosk_id="kiosk-a", slot=1)
    return engine


def test_each_kiosk_gets_its_allowlist_and_config_retained_once(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    assert [(t, qos, retain) for t, _, qos, retain in client.published] == [
        (kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST), 1, True),
        (kiosk_topic("test", "kiosk-a", Channel.CONFIG), 1, True),
        (kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST), 1, True),
        (kiosk_topic("test", "kiosk-b", Channel.CONFIG), 1, True),
    ]
    config = wire.decode_config(client.published[1][1])
    assert config.kiosk_id == "kiosk-a" and config.lockers[1].tool_code == "DRILL-1"
    assert config.lockers[1].name == "Cordless drill"  # the screen shows names
    assert config.timezone == "Europe/London"  # the site's, for the screen's clock
    assert publisher.allowlist is not None and publisher.allowlist.entries[CARD].name
    client.published.clear()
    publisher.publish_if_stale()
    assert client.published == []  # nothing moved


def test_a_suspension_republishes_the_allowlists_only(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.published.clear()
    with transaction(library) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
    publisher.publish_if_stale()
    assert client.topics() == [
        kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST),
        kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST),
    ]
    assert publisher.allowlist.entries[CARD].status == "suspended"


def test_after_a_reconnect_or_a_refused_publish_everything_goes_out_again(library):
    client = FakeClient(refuse=True)
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.refuse = False
    publisher.publish_if_stale()  # nothing was out: the same version is published again
    assert len(client.topics()) == 4
    publisher.forget_published()  # the broker may have lost them
    publisher.publish_if_stale()
    assert len(client.topics()) == 4


def test_a_change_whose_publish_was_refused_goes_out_on_the_next_pass(library):
    client = FakeClient()
    publisher = SnapshotPublisher(library, client)
    publisher.publish_if_stale()
    client.published.clear()
    with transaction(library) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
    client.refuse = True  # the broker connection dropped just then
    publisher.publish_if_stale()
    client.refuse = False
    publisher.publish_if_stale()  # the version did not move again, but the last round failed
    assert client.topics() == [
        kiosk_topic("test", "kiosk-a", Channel.ALLOWLIST),
        kiosk_topic("test", "kiosk-b", Channel.ALLOWLIST),
    ]


def test_a_stored_kiosk_the_wire_refuses_is_skipped_and_the_others_still_get_theirs(
    library, caplog
):
    with transaction(library) as session:
        # A row from before the hub checked its kiosk ids against the wire's (issue 11).
        session.add(Kiosk(id="hub", site="test", name="Not a kiosk"))
        a_kiosk(session, "kiosk-c", slots=1, site="test")
    client = FakeClient()
    SnapshotPublisher(library, client).publish_if_stale()
    topics = client.topics()
    assert kiosk_topic("test", "kiosk-c", Channel.CONFIG) in topics  # sorts after "hub"
    assert not any("/kiosk/hub/" in topic for topic in topics)
    assert "kiosk 'hub' gets no config" in caplog.text
