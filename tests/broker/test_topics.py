"""broker.topics: building and parsing the topic tree."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.topics import (
    HUB_EVENTS_SHARED,
    Channel,
    ForeignTopic,
    KioskTopic,
    kiosk_filter,
    kiosk_subtree,
    kiosk_topic,
    parse_topic,
    shared_filter,
    validate_kiosk_id,
)

ids = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,31}\Z").filter(lambda s: s != "hub")


def test_kiosk_topic_layout():
    topic = kiosk_topic("main", "kiosk-a", Channel.EVENTS)
    assert topic == "commonshed/v1/main/kiosk/kiosk-a/events"
    assert kiosk_topic("main", "kiosk-a", "allowlist").endswith("/kiosk-a/allowlist")


def test_hub_filters():
    assert kiosk_filter(Channel.STATUS) == "commonshed/v1/+/kiosk/+/status"
    assert kiosk_filter(Channel.EVENTS, site="main") == "commonshed/v1/main/kiosk/+/events"
    assert HUB_EVENTS_SHARED == "$share/hub/commonshed/v1/+/kiosk/+/events"
    assert shared_filter("requests", group="w") == "$share/w/commonshed/v1/+/kiosk/+/requests"
    assert kiosk_subtree("main", "k1") == "commonshed/v1/main/kiosk/k1/#"


@given(ids, ids, st.sampled_from(list(Channel)))
def test_parse_undoes_build(site, kiosk_id, channel):
    topic = kiosk_topic(site, kiosk_id, channel)
    assert parse_topic(topic) == KioskTopic(site, kiosk_id, channel)
    assert str(parse_topic(topic)) == topic


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("homeassistant/sensor/x", "not of the form"),
        ("commonshed/v1/main/kiosk/kiosk-a", "not of the form"),
        ("commonshed/v1/main/kiosk/kiosk-a/events/extra", "not of the form"),
        ("commonshed/v1/main/locker/kiosk-a/events", "not of the form"),
        ("commonshed/v2/main/kiosk/kiosk-a/events", "protocol 'v2'"),
        ("commonshed/v1/main/kiosk/Kiosk-A/events", "kiosk id 'Kiosk-A'"),
        ("commonshed/v1/main/kiosk/hub/events", "reserved"),
        ("commonshed/v1/hub/kiosk/kiosk-a/events", "site id 'hub' is reserved"),
        ("commonshed/v1/Main/kiosk/kiosk-a/events", "site id 'Main'"),
        ("commonshed/v1/main/kiosk/kiosk-a/gossip", "'gossip' is not a valid Channel"),
    ],
)
def test_parse_refuses_foreign_topics_saying_why(topic, problem):
    with pytest.raises(ForeignTopic, match=problem):
        parse_topic(topic)


def test_foreign_topic_is_a_value_error():
    assert issubclass(ForeignTopic, ValueError)


@pytest.mark.parametrize(
    "bad", ["", "-a", "a/b", "a+", "a#", "%u", "A", "a" * 33, "hub", "a b", "kiosk-a\n"]
)
def test_kiosk_ids_that_could_escape_an_acl_pattern_are_refused(bad):
    with pytest.raises(ValueError):
        validate_kiosk_id(bad)
    with pytest.raises(ValueError):
        kiosk_topic("main", bad, Channel.EVENTS)
