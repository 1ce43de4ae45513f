"""Messages as they arrive: topic and payload decoded together, once, into one typed value.

Each side decodes a message where it enters: the hub with ``from_kiosk``, a kiosk with
``from_hub``. The value carries the topic taken apart (``where``), the validated payload, and
the raw topic and bytes (a refused message is kept as a dead letter with them); or, as
``Undecodable``, the reason it could not be decoded. Everything after the door works with the
value and never parses the topic or the payload again.

Decoding never raises: whatever bytes arrive on whatever topic, the answer is a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker import messages as wire
from broker.topics import (
    HUB_PUBLISHES,
    KIOSK_PUBLISHES,
    RETAINED,
    Channel,
    ForeignTopic,
    KioskTopic,
    bridge_site_of,
    parse_topic,
)

# --- what a kiosk sends the hub ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KioskEvent:
    """An event from a kiosk's outbox; its ``kiosk_id`` is the topic's."""

    topic: str
    payload: bytes
    where: KioskTopic
    event: wire.Event


@dataclass(frozen=True, slots=True)
class KioskStatus:
    """A kiosk's retained availability (``online``, or its last will ``offline``)."""

    topic: str
    payload: bytes
    where: KioskTopic
    availability: wire.Availability


@dataclass(frozen=True, slots=True)
class SiteBridge:
    """A site broker's bridge saying whether it is connected to the network's broker (retained
    "1"; "0" is its last will: the site is cut off). Sent by Mosquitto, not by a kiosk."""

    topic: str
    payload: bytes
    site: str
    connected: bool
    where: None = None  # no kiosk's topic


@dataclass(frozen=True, slots=True)
class KioskRequest:
    """A question a kiosk cannot answer alone; the answer goes back to that kiosk."""

    topic: str
    payload: bytes
    where: KioskTopic
    request: wire.Request


# --- what the hub sends a kiosk ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubAck:
    """The hub's acknowledgement of one event, or of several in one message (``EventAcks``)."""

    topic: str
    payload: bytes
    where: KioskTopic
    acks: tuple[wire.EventAck, ...]


@dataclass(frozen=True, slots=True)
class HubSnapshot:
    """An allow-list or a kiosk configuration, its content hash checked."""

    topic: str
    payload: bytes
    where: KioskTopic
    snapshot: wire.AllowList | wire.KioskConfig


@dataclass(frozen=True, slots=True)
class HubResponse:
    """The hub's answer to one request."""

    topic: str
    payload: bytes
    where: KioskTopic
    response: wire.Response


# --- either way ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cleared:
    """A retained message deleted (an empty payload on a retained channel): nothing to decode."""

    topic: str
    payload: bytes
    where: KioskTopic


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A message that did not decode, and why (the text names the field or topic at fault).

    ``where`` is the topic taken apart, if it could be; ``event_id`` the id read from an event
    payload that did not decode, if one can be (the hub acks it ``rejected``, so the kiosk's
    outbox does not retry it forever); ``request_id`` likewise from a request (the hub answers
    it with a ``malformed_request`` error).
    """

    topic: str
    payload: bytes
    reason: str
    where: KioskTopic | None = None
    event_id: str | None = None
    request_id: str | None = None


FromKiosk = KioskEvent | KioskStatus | KioskRequest | SiteBridge | Cleared | Undecodable
FromHub = HubAck | HubSnapshot | HubResponse | Cleared | Undecodable


def from_kiosk(topic: str, payload: bytes) -> FromKiosk:
    """Decode what a kiosk (or its site's bridge) published: an event, its status or a
    request, a bridge's state, or why it is none."""
    if (site := bridge_site_of(topic)) is not None:
        if payload in (b"0", b"1"):
            return SiteBridge(topic, payload, site, payload == b"1")
        return Undecodable(topic, payload, f"a bridge state is '0' or '1', not {payload[:20]!r}")
    try:
        where = parse_topic(topic)
    except ForeignTopic as error:
        return Undecodable(topic, payload, str(error))
    if where.channel not in KIOSK_PUBLISHES:
        return Undecodable(topic, payload, _wrong_way(where, "a kiosk"), where)
    if not payload and where.channel in RETAINED:
        return Cleared(topic, payload, where)
    try:
        if where.channel is Channel.EVENTS:
            event = wire.decode_event(payload, kiosk_id=where.kiosk_id)
            return KioskEvent(topic, payload, where, event)
        if where.channel is Channel.STATUS:
            return KioskStatus(topic, payload, where, wire.decode_availability(payload))
        return KioskRequest(topic, payload, where, wire.decode_request(payload))
    except wire.MalformedMessage as error:
        event_id = wire.event_id_of(payload) if where.channel is Channel.EVENTS else None
        request_id = wire.request_id_of(payload) if where.channel is Channel.REQUESTS else None
        return Undecodable(topic, payload, str(error), where, event_id, request_id)


def from_hub(topic: str, payload: bytes) -> FromHub:
    """Decode what the hub published: an ack, an allow-list or config, a response, or why not."""
    try:
        where = parse_topic(topic)
    except ForeignTopic as error:
        return Undecodable(topic, payload, str(error))
    if where.channel not in HUB_PUBLISHES:
        return Undecodable(topic, payload, _wrong_way(where, "the hub"), where)
    if not payload and where.channel in RETAINED:
        return Cleared(topic, payload, where)
    try:
        if where.channel is Channel.ACKS:
            return HubAck(topic, payload, where, tuple(wire.acks_in(payload)))
        if where.channel is Channel.ALLOWLIST:
            return HubSnapshot(topic, payload, where, wire.decode_allowlist(payload))
        if where.channel is Channel.CONFIG:
            return HubSnapshot(topic, payload, where, wire.decode_config(payload))
        return HubResponse(topic, payload, where, wire.decode_response(payload))
    except wire.MalformedMessage as error:
        return Undecodable(topic, payload, str(error), where)


def _wrong_way(where: KioskTopic, sender: str) -> str:
    return f"topic {str(where)!r}: {sender} does not publish on {where.channel.value!r}"
