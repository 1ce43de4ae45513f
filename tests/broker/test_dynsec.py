"""broker/dynsec.py against a real Mosquitto: each kiosk is confined to its own subtree,
refused at SUBSCRIBE and CONNECT, and a revoked kiosk is put out at once."""

import threading

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from broker.client import ConnectRefused, Will, subscribe_and_wait
from broker.examples import EXAMPLES
from broker.messages import Availability, decode_allowlist, decode_availability, encode
from broker.provision import provision_kiosk, revoke
from broker.topics import (
    HUB_EVENTS_SHARED,
    HUB_REQUESTS_SHARED,
    HUB_STATUS_FILTER,
    HUB_STATUS_TOPIC,
    Channel,
    shared_filter,
)
from tests.fixtures.mosquitto import collect
from tests.fixtures.waiting import wait_until

NOT_AUTHORIZED = 135
KIOSK_READS = (Channel.ACKS, Channel.ALLOWLIST, Channel.CONFIG, Channel.RESPONSES)


def publish_and_wait(client, topic, payload, *, retain=False, timeout=5.0) -> ReasonCode:
    """Publish at QoS 1 and return the reason code of the broker's PUBACK."""
    acks = {}
    client.on_publish = lambda _c, _u, mid, reason_code, _p: acks.__setitem__(mid, reason_code)
    info = client.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(timeout)
    return acks[info.mid]


def test_anonymous_clients_are_refused(mosquitto):
    with pytest.raises(ConnectRefused) as refused:
        mosquitto.connect(None)
    assert refused.value.reason_code.value == NOT_AUTHORIZED


def test_a_wrong_password_is_refused(mosquitto):
    with pytest.raises(ConnectRefused):
        mosquitto.connect("kiosk-a", password="guess")


def test_a_kiosk_publishes_its_own_events_to_the_hub(mosquitto):
    hub_inbox = collect(mosquitto.connect("hub"), HUB_EVENTS_SHARED)
    kiosk = mosquitto.connect("kiosk-a")
    event = encode(EXAMPLES["loan_out"])
    assert publish_and_wait(kiosk, mosquitto.topic("kiosk-a", Channel.EVENTS), event).value == 0
    received = hub_inbox.get()
    assert (received.topic, received.payload) == (mosquitto.topic("kiosk-a", "events"), event)


@pytest.mark.parametrize("channel", list(Channel))
def test_a_kiosk_cannot_publish_as_another_kiosk(mosquitto, channel):
    """Refused with reason 135 in the PUBACK; the hub never sees it."""
    hub_inbox = collect(mosquitto.connect("hub"), "commonshed/#")
    kiosk_a = mosquitto.connect("kiosk-a")
    forged = publish_and_wait(kiosk_a, mosquitto.topic("kiosk-b", channel), b"forged")
    assert forged.value == NOT_AUTHORIZED
    # A's own event after the forged one: the hub sees it first, so the forged one never came.
    publish_and_wait(kiosk_a, mosquitto.topic("kiosk-a", "events"), b"barrier")
    assert hub_inbox.get().payload == b"barrier"


def test_a_kiosk_cannot_publish_under_another_site(mosquitto):
    kiosk_a = mosquitto.connect("kiosk-a")
    topic = mosquitto.topic("kiosk-a", Channel.EVENTS).replace("/test/", "/other-site/")
    assert publish_and_wait(kiosk_a, topic, b"sneaky").value == NOT_AUTHORIZED


@pytest.mark.parametrize(
    "channel", [Channel.ACKS, Channel.ALLOWLIST, Channel.CONFIG, Channel.RESPONSES]
)
def test_a_kiosk_cannot_write_what_only_the_hub_writes(mosquitto, channel):
    kiosk_a = mosquitto.connect("kiosk-a")
    reply = publish_and_wait(kiosk_a, mosquitto.topic("kiosk-a", channel), b"x", retain=True)
    assert reply.value == NOT_AUTHORIZED


@pytest.mark.parametrize(
    "subscription",
    [
        HUB_EVENTS_SHARED,
        HUB_REQUESTS_SHARED,
        shared_filter(Channel.STATUS),
        "$share/rogue/{a}/acks",
        "#",
        "+/#",
        "commonshed/#",
        "$SYS/#",
        "$CONTROL/dynamic-security/#",
        "{b}/acks",
        "{b}/allowlist",
        "{b}/config",
        "{b}/responses",
        "{b}/#",
        "{a}/#",
        "{a}/events",
        "{a}/requests",
        "commonshed/v1/+/kiosk/kiosk-a/acks",
        "commonshed/v1/test/kiosk/+/acks",
    ],
)
def test_a_kiosk_is_refused_at_subscribe_outside_its_own_topics(mosquitto, subscription):
    a, b = (mosquitto.topic(f"kiosk-{k}", "acks").rsplit("/", 1)[0] for k in "ab")
    kiosk_a = mosquitto.connect("kiosk-a")
    granted = subscribe_and_wait(kiosk_a, subscription.format(a=a, b=b))
    assert granted.value == NOT_AUTHORIZED


def test_a_kiosk_may_subscribe_to_its_own_topics_and_the_hubs_status(mosquitto):
    kiosk_a = mosquitto.connect("kiosk-a")
    own = [mosquitto.topic("kiosk-a", channel) for channel in KIOSK_READS]
    for topic_filter in [*own, HUB_STATUS_TOPIC]:
        assert subscribe_and_wait(kiosk_a, topic_filter).value == 1


def test_a_kiosk_cannot_connect_with_another_kiosks_client_id(mosquitto):
    kiosk_b = mosquitto.connect("kiosk-b")
    for client_id in ("kiosk-b", "hub-ingest-1", "anything"):
        with pytest.raises(ConnectRefused) as refused:
            mosquitto.connect("kiosk-a", client_id=client_id)
        assert refused.value.reason_code.value == NOT_AUTHORIZED
    assert subscribe_and_wait(kiosk_b, mosquitto.topic("kiosk-b", "acks")).value == 1


def test_the_hub_shares_the_kiosks_traffic_but_sends_only_what_the_hub_sends(mosquitto):
    hub = mosquitto.connect("hub")
    for topic_filter in (HUB_EVENTS_SHARED, HUB_REQUESTS_SHARED, HUB_STATUS_FILTER):
        assert subscribe_and_wait(hub, topic_filter).value == 1
    for channel in (Channel.EVENTS, Channel.REQUESTS, Channel.STATUS):
        forged = publish_and_wait(hub, mosquitto.topic("kiosk-a", channel), b"forged")
        assert forged.value == NOT_AUTHORIZED
    assert not publish_and_wait(hub, HUB_STATUS_TOPIC, b"{}", retain=True).is_failure


def test_the_kiosk_gets_what_the_hub_sends_it(mosquitto):
    kiosk_b = mosquitto.connect("kiosk-b")
    b_inbox = collect(kiosk_b, *(mosquitto.topic("kiosk-b", channel) for channel in KIOSK_READS))
    hub = mosquitto.connect("hub")
    for channel in KIOSK_READS:
        publish_and_wait(hub, mosquitto.topic("kiosk-b", channel), channel.value.encode())
    assert [b_inbox.get().payload for _ in range(4)] == [
        b"acks",
        b"allowlist",
        b"config",
        b"responses",
    ]


def test_the_retained_allowlist_arrives_when_the_kiosk_subscribes(mosquitto):
    allowlist = EXAMPLES["allowlist"]
    hub = mosquitto.connect("hub")
    topic = mosquitto.topic("kiosk-a", Channel.ALLOWLIST)
    publish_and_wait(hub, topic, encode(allowlist), retain=True)
    kiosk = mosquitto.connect("kiosk-a")
    received = collect(kiosk, topic).get()
    assert received.retain
    assert decode_allowlist(received.payload) == allowlist


def will_of(mosquitto, kiosk_id) -> Will:
    return Will(mosquitto.topic(kiosk_id, Channel.STATUS), encode(Availability(state="offline")))


def drop_connection(client) -> None:
    """Cut the TCP connection without DISCONNECT, as a power cut or a pulled cable would."""
    client.loop_stop()
    client.socket().close()


def test_the_last_will_says_offline_retained_when_a_kiosk_drops(mosquitto):
    status_topic = mosquitto.topic("kiosk-a", Channel.STATUS)
    hub_inbox = collect(mosquitto.connect("hub"), HUB_STATUS_FILTER)
    kiosk = mosquitto.connect("kiosk-a", will=will_of(mosquitto, "kiosk-a"))
    online = Availability(state="online", since=EXAMPLES["status_online"].since)
    publish_and_wait(kiosk, status_topic, encode(online), retain=True)
    assert decode_availability(hub_inbox.get().payload).state == "online"

    drop_connection(kiosk)

    assert decode_availability(hub_inbox.get().payload).state == "offline"
    later = collect(mosquitto.connect("hub"), status_topic).get()
    assert later.retain
    assert decode_availability(later.payload) == Availability(state="offline")


def test_a_kiosk_cannot_leave_a_last_will_on_another_kiosks_status(mosquitto):
    hub_inbox = collect(mosquitto.connect("hub"), HUB_STATUS_FILTER)
    kiosk_a = mosquitto.connect("kiosk-a", will=will_of(mosquitto, "kiosk-b"))
    drop_connection(kiosk_a)
    wait_for_log(mosquitto, "Client kiosk-a closed its connection")
    publish_and_wait(mosquitto.connect("kiosk-a"), mosquitto.topic("kiosk-a", "status"), b"barrier")
    assert hub_inbox.get().payload == b"barrier"


def test_a_kiosk_provisioned_while_the_broker_runs_logs_in_at_once(mosquitto):
    mosquitto.credentials["kiosk-c"] = provision_kiosk(
        mosquitto.data_dir, "kiosk-c", site=mosquitto.site
    )
    kiosk_c = mosquitto.connect("kiosk-c")
    assert subscribe_and_wait(kiosk_c, mosquitto.topic("kiosk-c", "acks")).value == 1
    assert subscribe_and_wait(kiosk_c, mosquitto.topic("kiosk-a", "acks")).value == NOT_AUTHORIZED


def test_a_rotated_password_takes_effect_at_once(mosquitto):
    old = mosquitto.credentials["kiosk-a"]
    new = provision_kiosk(mosquitto.data_dir, "kiosk-a", site=mosquitto.site, rotate=True)
    with pytest.raises(ConnectRefused):
        mosquitto.connect("kiosk-a", password=old.password)
    assert mosquitto.connect("kiosk-a", password=new.password).is_connected()


def test_a_revoked_kiosk_is_disconnected_at_once_and_cannot_log_in_again(mosquitto):
    dropped = threading.Event()
    kiosk_a = mosquitto.connect("kiosk-a")
    kiosk_a.on_disconnect = lambda *_args: dropped.set()
    kiosk_b = mosquitto.connect("kiosk-b")

    assert revoke(mosquitto.data_dir, "kiosk-a")

    assert dropped.wait(5), "the revoked kiosk is still connected"
    wait_for_log(mosquitto, "Client kiosk-a been disconnected by administrative action")
    with pytest.raises(ConnectRefused) as refused:
        mosquitto.connect("kiosk-a")
    assert refused.value.reason_code.value == NOT_AUTHORIZED
    assert subscribe_and_wait(kiosk_b, mosquitto.topic("kiosk-b", "acks")).value == 1


def wait_for_log(mosquitto, text, timeout=5.0) -> None:
    wait_until(lambda: text in mosquitto.log_text(), timeout, f"Mosquitto to log {text!r}")
