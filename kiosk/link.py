"""The kiosk's MQTT link: send the outbox, take the hub's acks, hear allow-lists and configs.

Paho's network thread only hands messages over to this link's queue; the link's own thread
decodes each one, once (``broker.inbound.from_hub``: topic and payload together), and does the
rest with its own connection to the outbox file:

- it publishes unacknowledged events at QoS 1, oldest first, at most ``max_in_flight`` awaiting
  an ack, re-sends one whose ack has not come within ``ack_timeout`` and, after every
  (re)connect, and whenever the hub says it is online (``HUB_STATUS_TOPIC``: its
  subscriptions are back, e.g. after a broker restart), all of them again from the oldest
  (duplicates are harmless: the hub applies each event id once);
- it deletes an event when the hub's ``EventAck`` comes (a PUBACK only means the broker has it),
  or several at once from an ``EventAcks``, which its status asks for (``batched_acks``);
- it passes each allow-list and config, decoded and hash-checked, to ``on_snapshot``;
- it keeps the retained status: ``online`` with versions, backlog, the age of the oldest unacked
  event and the kiosk's health (``health()``: reader, last error, lock safety) after every
  CONNACK, about every ``status_interval`` and when the backlog or the health changes notably;
  ``offline`` as its last will and on a clean stop.

Reconnection is paho's (``reconnect_delay_set``); meanwhile the kiosk keeps deciding alone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from broker import messages as wire
from broker.client import Will, make_client
from broker.inbound import HubAck, HubSnapshot, Undecodable, from_hub
from broker.topics import HUB_STATUS_TOPIC, Channel, hub_is_online, kiosk_topic
from kiosk.config import MqttSettings
from kiosk.health import KioskHealth
from kiosk.outbox import Outbox
from kiosk.supervisor import Supervisor

log = logging.getLogger("commonshed.kiosk.link")

SESSION_EXPIRY_S = 7 * 24 * 3600  # acks published while the kiosk was away wait a week for it
SUBSCRIBED = (Channel.ACKS, Channel.ALLOWLIST, Channel.CONFIG, Channel.RESPONSES)
POLL_SECONDS = 0.1
STATUS_MIN_GAP_S = 1.0  # at most one status a second for backlog changes
_CONNECTED, _DISCONNECTED, _WAKE, _STOP = "connected", "disconnected", "wake", "stop"

Versions = Callable[[], tuple[int | None, int | None]]
Health = Callable[[], KioskHealth]
# (kind: "allowlist" or "config", the payload as received, the payload decoded)
OnSnapshot = Callable[[str, bytes, wire.AllowList | wire.KioskConfig], None]


@dataclass(frozen=True, slots=True)
class Received:
    """A message as paho handed it over; the link's thread decodes it."""

    topic: str
    payload: bytes


@dataclass
class LinkFigures:
    """What the link has done, for the screen, logs and tests."""

    connected: bool = False
    backlog: int = 0
    published: int = 0
    acknowledged: int = 0
    connects: int = 0


class Link:
    """Keep kiosk ``kiosk_id``'s session with the broker, in a thread of its own."""

    def __init__(
        self,
        *,
        kiosk_id: str,
        site: str,
        mqtt_settings: MqttSettings,
        outbox_path: Path,
        on_snapshot: OnSnapshot,
        versions: Versions,
        max_in_flight: int = 20,
        ack_timeout: float = 30.0,
        status_interval: float = 60.0,
        batched_acks: bool = True,
        supervisor: Supervisor | None = None,
        health: Health = KioskHealth,
    ) -> None:
        self.kiosk_id, self.site, self.outbox_path = kiosk_id, site, outbox_path
        self.max_in_flight, self.ack_timeout = max_in_flight, ack_timeout
        self.status_interval = status_interval
        # protocol v1.1 features this kiosk advertises in its status (False: speak v1.0 only)
        self.features = [wire.BATCHED_ACKS] if batched_acks else None
        self.figures = LinkFigures()
        self._on_snapshot, self._versions, self._health = on_snapshot, versions, health
        self._inbox: queue.Queue[Received | str] = queue.Queue()  # or _CONNECTED, _WAKE...
        self._in_flight: dict[str, tuple[int, float]] = {}  # event id -> (seq, sent at)
        self._cursor = -1  # the highest seq sent since the last (re)connect
        self._since: datetime | None = None
        self._last_status: tuple[float, int, tuple[int | None, int | None], KioskHealth] | None
        self._last_status = None
        self._guard = (supervisor or Supervisor()).guard("kiosk-link")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-link", daemon=True)
        self.client = self._make_client(mqtt_settings)

    def topic(self, channel: Channel) -> str:
        """Return this kiosk's topic of ``channel``."""
        return kiosk_topic(self.site, self.kiosk_id, channel)

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> Link:
        """Start connecting (and reconnecting) and sending."""
        self._thread.start()
        self.client.loop_start()
        return self

    def wake(self) -> None:
        """Say that new events are in the outbox (safe from any thread)."""
        self._inbox.put(_WAKE)

    def stop(self, timeout: float = 5.0) -> None:
        """Say ``offline`` (retained), disconnect, and end the link's thread."""
        self._stopping.set()  # ends a back-off too
        self._inbox.put(_STOP)
        self._thread.join(timeout)
        if self.figures.connected:
            info = self.client.publish(
                self.topic(Channel.STATUS),
                wire.encode(wire.Availability(state="offline")),
                qos=1,
                retain=True,
            )
            _wait_quietly(info, timeout=1.0)
        self.client.disconnect()
        self.client.loop_stop()

    # --- paho's network thread: hand over, nothing else ------------------------------------

    def _make_client(self, settings: MqttSettings) -> mqtt.Client:
        offline = wire.encode(wire.Availability(state="offline"))
        client = make_client(
            self.kiosk_id,
            settings.username,
            settings.password,
            host=settings.host,
            port=settings.port,
            clean_start=False,
            session_expiry=SESSION_EXPIRY_S,
            will=Will(self.topic(Channel.STATUS), offline),
        )
        if settings.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=max(1, int(settings.reconnect_max_s)))
        # NOTE: paho's own window (20 in flight) cannot be changed once make_client has called
        # connect_async; beyond it paho queues in memory, which is harmless.
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message  # before connecting: the session's backlog
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("the broker refused kiosk %s: %s", self.kiosk_id, reason_code)
            return
        client.subscribe(
            [(self.topic(channel), 1) for channel in SUBSCRIBED] + [(HUB_STATUS_TOPIC, 1)]
        )
        self._inbox.put(_CONNECTED)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        _reason_code: ReasonCode,
        _props: Properties | None,
    ) -> None:
        self._inbox.put(_DISCONNECTED)

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        self._inbox.put(Received(message.topic, bytes(message.payload)))

    # --- the link's thread ----------------------------------------------------------------

    def _run(self) -> None:
        outbox = Outbox(self.outbox_path, self.kiosk_id)
        try:
            self._guard.run(lambda: self._step(outbox), self._stopping)
        finally:
            outbox.close()

    def _step(self, outbox: Outbox) -> bool:
        """Handle what arrived, send what may be sent; return False once asked to stop."""
        items = self._take_inbox()
        if _STOP in items:
            return False
        acks: list[wire.EventAck] = []
        for item in items:
            if isinstance(item, Received):
                self._take_in(item, acks)
            elif item in (_CONNECTED, _DISCONNECTED):
                self._connection_changed(item == _CONNECTED)
        if acks:
            self._settle(outbox, acks)
        if self.figures.connected:
            self._send(outbox)
            self._report(outbox, force=_CONNECTED in items)
        return True

    def _take_inbox(self) -> list[Received | str]:
        """Wait briefly for one item, then take all that is waiting."""
        try:
            items = [self._inbox.get(timeout=POLL_SECONDS)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                return items

    def _connection_changed(self, connected: bool) -> None:
        self.figures.connected = connected
        # Whatever was in flight may be lost with the old connection: send it all again.
        self._in_flight.clear()
        self._cursor = -1
        if connected:
            self.figures.connects += 1
            self._since = datetime.now(UTC)
            log.info("kiosk %s connected to the broker", self.kiosk_id)
        else:
            log.warning("kiosk %s lost the broker; working offline", self.kiosk_id)

    def _take_in(self, received: Received, acks: list[wire.EventAck]) -> None:
        """Decode a message from the hub, the one time it is decoded; collect an ack, pass on an
        allow-list or config, log what does not decode. (A deleted retained message and the
        responses to requests, which the link never asks, need nothing.)

        NOTE: decoded here, off paho's thread and off the station's worker: a 10,000-card
        allow-list takes ~0.2 s to decode (its hash checked); on the worker that would hold up
        every tap meanwhile. The worker only compares versions, stores and swaps.
        """
        if received.topic == HUB_STATUS_TOPIC:
            if hub_is_online(received.payload):  # what the hub missed meanwhile: send it all again
                self._in_flight.clear()
                self._cursor = -1
            return
        message = from_hub(received.topic, received.payload)
        if isinstance(message, HubAck):
            acks.extend(message.acks)
        elif isinstance(message, HubSnapshot):
            self._on_snapshot(message.where.channel.value, message.payload, message.snapshot)
        elif isinstance(message, Undecodable):
            _log_refusal(message)

    def _settle(self, outbox: Outbox, acks: list[wire.EventAck]) -> None:
        for ack in acks:
            self._in_flight.pop(ack.event_id, None)
        self.figures.acknowledged += outbox.acknowledge(acks)

    def _send(self, outbox: Outbox) -> None:
        """Re-send events whose ack is overdue, then send new ones while there is room."""
        now = time.monotonic()
        for event_id, (_, sent_at) in list(self._in_flight.items()):
            if now - sent_at > self.ack_timeout:
                pending = outbox.get(event_id)
                if pending is None:
                    del self._in_flight[event_id]
                else:
                    self._publish(pending.event_id, pending.seq, pending.payload, now)
        room = self.max_in_flight - len(self._in_flight)
        if room > 0:
            for pending in outbox.pending(after=self._cursor, limit=room):
                self._publish(pending.event_id, pending.seq, pending.payload, now)
                self._cursor = pending.seq

    def _publish(self, event_id: str, seq: int, payload: bytes, now: float) -> None:
        self.client.publish(self.topic(Channel.EVENTS), payload, qos=1)
        self._in_flight[event_id] = (seq, now)
        self.figures.published += 1

    def _report(self, outbox: Outbox, *, force: bool) -> None:
        """Publish the retained ``online`` status if it is due, or changed notably."""
        backlog, versions, now = outbox.backlog(), self._versions(), time.monotonic()
        health = self._health()
        self.figures.backlog = backlog
        if not force and not self._status_due(backlog, versions, health, now):
            return
        status = wire.Availability(
            state="online",
            since=self._since,
            allowlist_version=versions[0],
            config_version=versions[1],
            outbox_backlog=backlog,
            features=self.features,
            reader=health.reader,
            reader_reinitialised=health.reader_reinitialised,
            oldest_unacked_s=_age_seconds(outbox.oldest_written_at()),
            last_error=health.last_error,
            locks_safety=health.locks_safety,
        )
        self.client.publish(self.topic(Channel.STATUS), wire.encode(status), qos=1, retain=True)
        self._last_status = (now, backlog, versions, health)

    def _status_due(
        self,
        backlog: int,
        versions: tuple[int | None, int | None],
        health: KioskHealth,
        now: float,
    ) -> bool:
        if self._last_status is None:
            return True
        at, reported, reported_versions, reported_health = self._last_status
        if now - at >= self.status_interval:
            return True
        return now - at >= STATUS_MIN_GAP_S and (
            versions != reported_versions
            or health != reported_health
            or notable_change(reported, backlog)
        )


def _age_seconds(written_at: datetime | None) -> float | None:
    if written_at is None:
        return None
    return round(max(0.0, (datetime.now(UTC) - written_at).total_seconds()), 1)


def notable_change(reported: int, backlog: int) -> bool:
    """Whether the backlog moved enough since the last status to be worth a new one."""
    if (reported == 0) != (backlog == 0):
        return True
    return abs(backlog - reported) >= max(10, reported // 5)


def _log_refusal(message: Undecodable) -> None:
    channel = message.where.channel if message.where else None
    if channel is Channel.ACKS:
        log.error("ignored a malformed ack: %s", message.reason)
    elif channel in (Channel.ALLOWLIST, Channel.CONFIG):
        log.error("refused a %s from the hub: %s", channel, message.reason)
    else:
        log.warning("ignored a message on %s: %s", message.topic, message.reason)


def _wait_quietly(info: mqtt.MQTTMessageInfo, timeout: float) -> None:
    try:
        info.wait_for_publish(timeout)
    except (RuntimeError, ValueError):  # not connected any more: the will says offline
        pass
