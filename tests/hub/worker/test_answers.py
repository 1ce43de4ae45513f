"""How the hub answers a kiosk's request: never outside the asking kiosk's own subtree, and
with an error response when it cannot (a malformed request, a failing database)."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import messages as wire
from broker.inbound import Undecodable, from_kiosk
from broker.topics import Channel, KioskTopic, kiosk_topic
from hub.infra.db import make_engine, transaction
from hub.inventory import sites
from hub.members.ranks import OPERATOR
from hub.worker.answers import answer, refuse_malformed, response_route
from hub.worker.snapshots import build_allowlist
from tests.hub.builders import a_kiosk, a_member

ASKED_BY = KioskTopic("test", "kiosk-a", Channel.REQUESTS)
OWN = kiosk_topic("test", "kiosk-a", Channel.RESPONSES)


def asked(response_topic: str | None = None, correlation: bytes | None = None) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    return props


def test_the_answer_goes_to_the_kiosks_own_responses_with_the_correlation_echoed():
    topic, props = response_route(ASKED_BY, asked(OWN, b"corr-1"))
    assert topic == OWN and props.CorrelationData == b"corr-1"


def test_a_response_topic_below_the_kiosks_own_is_honoured():
    assert response_route(ASKED_BY, asked(OWN + "/screen"))[0] == OWN + "/screen"


def test_a_response_topic_of_another_kiosk_is_ignored():
    other = kiosk_topic("test", "kiosk-b", Channel.RESPONSES)
    for wanted in (other, OWN + "-b", kiosk_topic("test", "kiosk-a", Channel.ACKS)):
        assert response_route(ASKED_BY, asked(wanted))[0] == OWN


def test_a_request_without_properties_is_answered_on_its_own_topic():
    topic, props = response_route(ASKED_BY, None)
    assert topic == OWN and not hasattr(props, "CorrelationData")


def test_a_database_that_fails_is_answered_internal_error(tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    try:
        request = wire.ToolStatusRequest(
            request_id=wire.new_message_id(), params=wire.ToolParams(tool_code="DRL-001")
        )
        response = answer(broken, request)
    finally:
        broken.dispose()
    assert not response.ok and response.error is not None
    assert response.error.code == "internal_error" and response.request_id == request.request_id


def test_a_malformed_request_is_refused_when_its_id_can_be_read():
    topic = kiosk_topic("test", "kiosk-a", Channel.REQUESTS)
    unreadable = from_kiosk(topic, b'{"v": 1, "kind": "balance"}')
    readable = from_kiosk(topic, b'{"v": 1, "request_id": "q-7", "kind": "balance"}')
    assert isinstance(unreadable, Undecodable) and refuse_malformed(unreadable) is None
    assert isinstance(readable, Undecodable)
    refusal = refuse_malformed(readable)
    assert refusal is not None and refusal.request_id == "q-7"
    assert refusal.error is not None and refusal.error.code == "malformed_request"
    assert "balance.params: Field required" in refusal.error.message


def test_a_member_question_is_answered_for_the_asking_kiosks_site(engine):
    with transaction(engine) as session:
        a_kiosk(session, "east-1", slots=1, site="east")
        a_member(session, "Ada Lovelace", uid="DEADBEEF")
        a_member(session, "Bob Marley", uid="B0B0B0B0")
        sites.set_policy(session, OPERATOR, "east", "listed")
        sites.allow_member(session, OPERATOR, "east", "1001")
        east = build_allowlist(session, site="east")
    where = KioskTopic("east", "east-1", Channel.REQUESTS)

    def status(uid: str) -> wire.Response:
        request = wire.MemberStatusRequest(
            request_id=wire.new_message_id(), params=wire.CardParams(card_uid=uid)
        )
        return answer(engine, request, allowlist=east, where=where)

    listed, unlisted = status("DEADBEEF"), status("B0B0B0B0")
    assert listed.ok and listed.data["number"] == "1001"
    assert not unlisted.ok and unlisted.error is not None
    assert unlisted.error.code == "refused" and "not allowed to borrow at site east" in (
        unlisted.error.message
    )
