"""The hub's MQTT worker: ingest kiosk events, answer kiosk requests, publish allow-lists.

Paho's network thread only hands messages to queues (no database there). Three threads of ours:
- events: batches of events (and kiosk statuses) applied in one transaction, each event in its
  own savepoint with its inbox row; after the commit, the hub's acknowledgement goes to each
  kiosk and only then the MQTT PUBACK to the broker (manual acks), so a worker killed at any
  point leaves every event either committed or still queued at the broker.
- requests: questions a kiosk cannot answer alone, answered on the MQTT v5 response topic.
- publisher: polls the sync version and republishes allow-lists and configs that changed.
Several workers can run at once: events and requests come through shared subscriptions.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from broker import messages as wire
from broker.client import make_client
from broker.topics import (
    HUB_EVENTS_SHARED,
    HUB_REQUESTS_SHARED,
    HUB_STATUS_FILTER,
    Channel,
    ForeignTopic,
    kiosk_topic,
    parse_topic,
)
from hub.bookings import sweep_bookings
from hub.infra.db import reading, transaction
from hub.infra.sync import current_version
from hub.inventory import fleet
from hub.inventory.registry import Kiosk, list_kiosks
from hub.maintenance.plans import open_due_tickets
from hub.worker import inbox
from hub.worker.answers import answer
from hub.worker.events import NeedsIsolation, Outcome, apply_events
from hub.worker.snapshots import build_allowlist, build_config

log = logging.getLogger("commonshed.ingest")
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our queued events for a week offline
BATCH_MAX = 500
BATCH_RETRIES = 3
ACK_PUBLISH_TIMEOUT_S = 5.0


@dataclass
class Inbound:
    """One message as paho handed it over, with what we need to acknowledge it later."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    properties: Properties | None = None


@dataclass
class BatchResult:
    """What a batch produced: acknowledgements to publish once the transaction committed."""

    acks: list[tuple[str, wire.EventAck]] = field(default_factory=list)
    applied: int = 0

    def merge(self, other: BatchResult) -> None:
        self.acks += other.acks
        self.applied += other.applied


class IngestWorker:
    """Connect as the hub and keep ingesting until ``stop()``."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        client_id: str = "hub-ingest-1",
        publish_interval: float = 0.25,
        housekeeping_interval: float = 60.0,
    ) -> None:
        self.engine, self.publish_interval = engine, publish_interval
        self.housekeeping_interval = housekeeping_interval
        self.events: queue.Queue[Inbound] = queue.Queue()
        self.requests: queue.Queue[Inbound] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # (deadline, the acks published, the batch) waiting for the acks to be out
        self._awaiting_puback: deque[tuple[float, list, list[Inbound]]] = deque()
        self._published: dict[str, str] = {}  # topic -> content hash last published
        self.allowlist: wire.AllowList | None = None
        self.client = make_client(
            client_id,
            username,
            password,
            host=host,
            port=port,
            clean_start=False,
            session_expiry=SESSION_EXPIRY_S,
        )
        self.client.manual_ack_set(True)
        # NOTE: paho's default backs off to 120 s; after a broker outage the hub should be back
        # within seconds, as the kiosks are.
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> IngestWorker:
        """Connect and start the worker's threads."""
        self.client.loop_start()
        loops = (
            self._events_loop,
            self._requests_loop,
            self._publisher_loop,
            self._housekeeping_loop,
        )
        for target in loops:
            thread = threading.Thread(target=target, name=f"ingest-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand, then disconnect (the broker keeps the rest for us)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def stop_soon(self) -> None:
        """Ask ``run_forever`` to return (safe from a signal handler)."""
        self._stopping.set()

    def run_forever(self) -> None:
        """Run until interrupted (Ctrl-C or SIGTERM turned into KeyboardInterrupt)."""
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    # --- paho's network thread: hand over, nothing else ------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.error("broker refused the hub: %s", reason_code)
            return
        # Subscribing again on a resumed session is harmless and covers a session that expired.
        client.subscribe([(HUB_EVENTS_SHARED, 1), (HUB_REQUESTS_SHARED, 1), (HUB_STATUS_FILTER, 1)])
        self._published.clear()  # a broker restarted without persistence lost our retained ones

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        inbound = Inbound(
            message.topic,
            bytes(message.payload),
            message.mid,
            message.qos,
            getattr(message, "properties", None),
        )
        target = self.requests if message.topic.endswith("/" + Channel.REQUESTS) else self.events
        target.put(inbound)

    # --- events ---------------------------------------------------------------------------

    def _events_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch(self.events)
            if batch:
                self._process_and_acknowledge(batch)
            self._puback_confirmed()
        self._puback_confirmed(wait=True)

    def _process_and_acknowledge(self, batch: list[Inbound]) -> None:
        """Apply a batch, publish each event's ack to its kiosk, and queue the batch for its
        PUBACK to the broker, sent once every one of those acks is out (``_puback_confirmed``).

        NOTE: paho sends a PUBACK at once but holds publishes beyond its 20 in flight; a worker
        killed in between would leave committed events the broker will not redeliver and the
        kiosks not yet acknowledged. Waiting here would idle the database meanwhile, so the
        next batch is applied while this one's acks travel.
        """
        try:
            result = self.process_batch(batch)
        except Exception:  # noqa: BLE001  (a bug in one applier must not stop the worker)
            log.exception("batch of %d failed; applying one by one", len(batch))
            result = _apply_one_by_one(self.engine, batch)
        sent = [self.client.publish(topic, wire.encode(ack), qos=1) for topic, ack in result.acks]
        self._awaiting_puback.append((time.monotonic() + ACK_PUBLISH_TIMEOUT_S, sent, batch))

    def _puback_confirmed(self, *, wait: bool = False) -> None:
        """PUBACK, oldest first, each batch whose acks the broker has all taken.

        A batch whose acks are not out in time is never PUBACKed: the broker redelivers it
        after a reconnect and the hub answers "duplicate".
        """
        while self._awaiting_puback:
            deadline, sent, batch = self._awaiting_puback[0]
            published = _all_published(sent)
            while wait and published is None and time.monotonic() < deadline:
                time.sleep(0.01)
                published = _all_published(sent)
            if published is None and time.monotonic() < deadline:
                return
            self._awaiting_puback.popleft()
            if published:
                for inbound in batch:
                    if inbound.qos > 0:
                        self.client.ack(inbound.mid, inbound.qos)

    def _take_batch(self, source: queue.Queue[Inbound]) -> list[Inbound]:
        """Wait briefly for one message, then take whatever else is already waiting."""
        try:
            batch = [source.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < BATCH_MAX:
            try:
                batch.append(source.get_nowait())
            except queue.Empty:
                break
        return batch

    def process_batch(self, batch: list[Inbound]) -> BatchResult:
        """Apply a batch in one transaction, first without savepoints (the common case), then
        with one per event if an event was refused; retry whole after a lost race or deadlock."""
        isolate = False
        for attempt in range(BATCH_RETRIES + 1):
            try:
                with transaction(self.engine) as session:
                    return _apply_batch(session, batch, isolate=isolate)
            except NeedsIsolation:
                isolate = True
            except DBAPIError as error:  # a lost race for an event id, or a deadlock: again
                log.warning("batch of %d retried (%s): %s", len(batch), attempt + 1, error)
                time.sleep(0.05 * (attempt + 1))
        return _apply_one_by_one(self.engine, batch)  # so one bad apple is isolated

    # --- requests -------------------------------------------------------------------------

    def _requests_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                inbound = self.requests.get(timeout=0.2)
            except queue.Empty:
                continue
            self._answer(inbound)

    def _answer(self, inbound: Inbound) -> None:
        try:
            where = parse_topic(inbound.topic)
            request = wire.decode_request(inbound.payload)
        except (ForeignTopic, wire.MalformedMessage) as error:
            self._dead_letter(inbound, str(error))
        else:
            response = answer(self.engine, request, allowlist=self.allowlist)
            topic, props = _response_route(inbound, where.site, where.kiosk_id)
            self.client.publish(topic, wire.encode(response), qos=1, properties=props)
        if inbound.qos > 0:
            self.client.ack(inbound.mid, inbound.qos)

    def _dead_letter(self, inbound: Inbound, reason: str) -> None:
        with transaction(self.engine) as session:
            inbox.record_dead_letter(
                session, topic=inbound.topic, payload=inbound.payload, reason=reason
            )

    # --- allow-lists and configs ----------------------------------------------------------

    def _publisher_loop(self) -> None:
        version = None
        while not self._stopping.wait(self.publish_interval):
            try:
                with reading(self.engine) as session:
                    latest = current_version(session)
                if latest != version or not self._published:
                    self.publish_snapshots()
                    version = latest
            except Exception:  # noqa: BLE001  (a database hiccup must not end the publisher)
                log.exception("publishing allow-lists failed; retrying")

    def _housekeeping_loop(self) -> None:
        """Release booking no-shows and open due maintenance tickets, once a minute."""
        while not self._stopping.wait(self.housekeeping_interval):
            try:
                with transaction(self.engine) as session:
                    sweep_bookings(session)
                    open_due_tickets(session)
            except Exception:  # noqa: BLE001  (try again next round)
                log.exception("housekeeping failed; retrying next round")

    def publish_snapshots(self) -> int:
        """Publish each kiosk's allow-list and config if their content changed; return count."""
        with reading(self.engine) as session:
            allowlist = build_allowlist(session)
            snapshots = [
                (kiosk, allowlist, build_config(session, kiosk)) for kiosk in list_kiosks(session)
            ]
        self.allowlist = allowlist
        return sum(
            self._publish_if_changed(kiosk_topic(k.site, k.id, snap.channel), snap)
            for k, *snaps in snapshots
            for snap in snaps
        )

    def _publish_if_changed(self, topic: str, snapshot: Any) -> int:
        if self._published.get(topic) == snapshot.content_hash:
            return 0
        info = self.client.publish(topic, wire.encode(snapshot), qos=1, retain=True)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self._published[topic] = snapshot.content_hash
        return 1


def _all_published(sent: list[mqtt.MQTTMessageInfo]) -> bool | None:
    """Tell whether every publish is out: True, not yet (None), or never (False)."""
    try:
        return True if all(info.is_published() for info in sent) else None
    except (RuntimeError, ValueError):  # refused while disconnected: it will not go out
        return False


# --- applying a batch (no MQTT here: easy to test) ----------------------------------------


def _apply_batch(session, batch: list[Inbound], *, isolate: bool = True) -> BatchResult:
    """Apply a batch's statuses and events in ``session``; dead-letter what does not decode."""
    result, kiosks = BatchResult(), {}
    events, ack_topics = [], []
    for inbound in batch:
        if (sorted_ := _sort(session, inbound, result, kiosks)) is not None:
            events.append(sorted_[0])
            ack_topics.append(sorted_[1])
    outcomes = apply_events(session, events, isolate=isolate) if events else []
    for topic, outcome in zip(ack_topics, outcomes, strict=True):
        result.applied += outcome.status == "applied"
        result.acks.append((topic, outcome.ack()))
    return result


def _apply_one_by_one(engine: Engine, batch: list[Inbound]) -> BatchResult:
    """Apply each message in its own transaction; dead-letter any the hub cannot apply."""
    result = BatchResult()
    for inbound in batch:
        try:
            result.merge(_apply_with_one_retry(engine, inbound))
        except Exception as error:  # noqa: BLE001  (kept as a dead letter, never dropped)
            log.exception("could not apply a message on %s", inbound.topic)
            with transaction(engine) as session:
                _refuse(session, inbound, f"the hub could not apply it: {error!r}", result)
    return result


def _apply_with_one_retry(engine: Engine, inbound: Inbound) -> BatchResult:
    """Apply one message; once more after a database error (a race another worker won)."""
    try:
        with transaction(engine) as session:
            return _apply_batch(session, [inbound])
    except DBAPIError:
        with transaction(engine) as session:
            return _apply_batch(session, [inbound])


def _sort(session, inbound: Inbound, result: BatchResult, kiosks: dict):
    """Apply a status at once; return (event, ack topic) for an event; refuse the rest."""
    try:
        where = parse_topic(inbound.topic)
        _require_registered(session, where.site, where.kiosk_id, kiosks)
        if where.channel == Channel.STATUS:
            _apply_status(session, where.kiosk_id, inbound.payload)
            return None
        event = wire.decode_event(inbound.payload, kiosk_id=where.kiosk_id)
    except (ForeignTopic, wire.MalformedMessage, UnregisteredKiosk) as error:
        _refuse(session, inbound, str(error), result)
        return None
    return event, kiosk_topic(where.site, where.kiosk_id, Channel.ACKS)


def _apply_status(session, kiosk_id: str, payload: bytes) -> None:
    if not payload:  # a cleared retained status: nothing to record
        return
    status = wire.decode_availability(payload)
    fleet.record_availability(
        session,
        kiosk_id,
        state=status.state,
        since=status.since,
        allowlist_version=status.allowlist_version,
        config_version=status.config_version,
        outbox_backlog=status.outbox_backlog,
    )


class UnregisteredKiosk(ValueError):
    """A kiosk with broker credentials that the hub has not registered."""


def _require_registered(session, site: str, kiosk_id: str, kiosks: dict) -> None:
    """Refuse a kiosk the hub does not know, or one speaking under another site's tree.

    NOTE: the broker's ACL pins a kiosk to its own id but not to its site ('+'), so the
    site check lives here.
    """
    if kiosk_id not in kiosks:  # once per batch: the identity map may have let it go
        kiosks[kiosk_id] = session.get(Kiosk, kiosk_id)
    kiosk = kiosks[kiosk_id]
    if kiosk is None:
        raise UnregisteredKiosk(
            f"kiosk {kiosk_id!r} is not registered: run `commonshed hub kiosk register`"
        )
    if kiosk.site != site:
        raise UnregisteredKiosk(f"kiosk {kiosk_id!r} belongs to site {kiosk.site!r}, not {site!r}")


def _refuse(session, inbound: Inbound, reason: str, result: BatchResult) -> None:
    """Dead-letter a message; if it names an event id, tell the kiosk it was rejected."""
    kiosk_id = _kiosk_of(inbound.topic)
    inbox.record_dead_letter(
        session, topic=inbound.topic, payload=inbound.payload, reason=reason, kiosk_id=kiosk_id
    )
    event_id = wire.event_id_of(inbound.payload)
    if event_id and kiosk_id and inbound.topic.endswith("/" + Channel.EVENTS):
        outcome = Outcome(event_id, "rejected", reason[: wire.REASON_MAX])
        result.acks.append(_ack_topic_and(inbound, outcome))


def _ack_topic_and(inbound: Inbound, outcome: Outcome) -> tuple[str, wire.EventAck]:
    where = parse_topic(inbound.topic)
    return kiosk_topic(where.site, where.kiosk_id, Channel.ACKS), outcome.ack()


def _kiosk_of(topic: str) -> str | None:
    try:
        return parse_topic(topic).kiosk_id
    except ForeignTopic:
        return None


def _response_route(inbound: Inbound, site: str, kiosk_id: str) -> tuple[str, Properties]:
    """Return where to answer: the request's v5 response topic if it lies in the asking
    kiosk's own subtree (never let a kiosk aim the hub at another kiosk), else its own."""
    asked = inbound.properties
    own = kiosk_topic(site, kiosk_id, Channel.RESPONSES)
    wanted = getattr(asked, "ResponseTopic", None)
    topic = wanted if wanted and (wanted == own or wanted.startswith(own + "/")) else own
    props = Properties(PacketTypes.PUBLISH)
    if (correlation := getattr(asked, "CorrelationData", None)) is not None:
        props.CorrelationData = correlation
    return topic, props
