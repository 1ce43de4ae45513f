"""The hub's MQTT worker: the connection to the broker and the worker's supervised loops.

Paho's network thread decodes each message at the door (``broker.inbound.from_kiosk``: topic
and payload, once) and hands the typed value to a queue; no database there. Four threads of
ours take it from there:
- events: batches of events and kiosk statuses applied in one transaction (``batches``); after
  the commit, the hub's acknowledgement goes to each kiosk and only then the MQTT PUBACK to the
  broker (manual acks), so a worker killed at any point leaves every event either committed or
  still queued at the broker.
- requests: questions a kiosk cannot answer alone (``answers``), answered on the MQTT v5
  response topic.
- publisher: republishes allow-lists and configs when the sync version moved (``snapshots``).
- housekeeping: the hub's periodic jobs (``jobs``), on a timer of their own.
Several workers can run at once: events and requests come through shared subscriptions.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine

from broker import messages as wire
from broker.client import make_client
from broker.inbound import Cleared, FromKiosk, KioskRequest, KioskStatus, Undecodable, from_kiosk
from broker.topics import HUB_EVENTS_SHARED, HUB_REQUESTS_SHARED, HUB_STATUS_FILTER, Channel
from hub.infra.db import transaction
from hub.worker import inbox
from hub.worker.acks import AckForms
from hub.worker.answers import answer, refuse_malformed, response_route
from hub.worker.batches import BatchResult, Ingested, apply_batch, apply_one_by_one
from hub.worker.jobs import HOUSEKEEPING_INTERVAL_S, run_housekeeping
from hub.worker.snapshots import SnapshotPublisher

log = logging.getLogger("commonshed.ingest")
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our queued events for a week offline
BATCH_MAX = 500
ACK_PUBLISH_TIMEOUT_S = 5.0

Asked = KioskRequest | Undecodable  # what the requests loop takes in
M = TypeVar("M", bound=FromKiosk)


@dataclass(frozen=True, slots=True)
class Delivery(Generic[M]):
    """One message decoded at the door, with what paho needs to acknowledge it later."""

    message: M
    mid: int
    qos: int
    properties: Properties | None = None


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
        housekeeping_interval: float = HOUSEKEEPING_INTERVAL_S,
    ) -> None:
        self.engine, self.publish_interval = engine, publish_interval
        self.housekeeping_interval = housekeeping_interval
        self.events: queue.Queue[Delivery[Ingested]] = queue.Queue()
        self.requests: queue.Queue[Delivery[Asked]] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # (deadline, the acks published, the batch) waiting for the acks to be out
        self._awaiting_puback: deque[
            tuple[float, list[mqtt.MQTTMessageInfo], list[Delivery[Ingested]]]
        ] = deque()
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
        self.snapshots = SnapshotPublisher(engine, self.client)
        self.ack_forms = AckForms()  # which kiosks asked for batched acks (their status says)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    @property
    def allowlist(self) -> wire.AllowList | None:
        """The allow-list last built for the kiosks (member questions are answered from it)."""
        return self.snapshots.allowlist

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

    # --- paho's network thread: decode and hand over; no database -------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused the hub: %s", reason_code)
            return
        # Subscribing again on a resumed session is harmless and covers a session that expired.
        client.subscribe([(HUB_EVENTS_SHARED, 1), (HUB_REQUESTS_SHARED, 1), (HUB_STATUS_FILTER, 1)])
        self.snapshots.forget_published()  # a broker restarted without persistence lost them

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        """Decode the message, the one time it is decoded, and queue it for its loop."""
        decoded = from_kiosk(message.topic, bytes(message.payload))
        properties = getattr(message, "properties", None)
        if isinstance(decoded, KioskStatus | Cleared):
            self.ack_forms.note(decoded)
        if isinstance(decoded, KioskRequest) or (
            isinstance(decoded, Undecodable)
            and decoded.where is not None
            and decoded.where.channel is Channel.REQUESTS
        ):
            self.requests.put(Delivery(decoded, message.mid, message.qos, properties))
        else:
            self.events.put(Delivery(decoded, message.mid, message.qos, properties))

    # --- events ---------------------------------------------------------------------------

    def _events_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch(self.events)
            if batch:
                self._process_and_acknowledge(batch)
            self._puback_confirmed()
        self._puback_confirmed(wait=True)

    def _process_and_acknowledge(self, batch: list[Delivery[Ingested]]) -> None:
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
            result = apply_one_by_one(self.engine, [delivery.message for delivery in batch])
        sent = [
            self.client.publish(topic, payload, qos=1)
            for topic, payload in self.ack_forms.payloads(result.acks)
        ]
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
                for delivery in batch:
                    if delivery.qos > 0:
                        self.client.ack(delivery.mid, delivery.qos)

    def _take_batch(self, source: queue.Queue[Delivery[Ingested]]) -> list[Delivery[Ingested]]:
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

    def process_batch(self, batch: list[Delivery[Ingested]]) -> BatchResult:
        """Apply a batch in one transaction (``batches.apply_batch``); return its acks."""
        return apply_batch(self.engine, [delivery.message for delivery in batch])

    # --- requests -------------------------------------------------------------------------

    def _requests_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                delivery = self.requests.get(timeout=0.2)
            except queue.Empty:
                continue
            self._answer(delivery)

    def _answer(self, delivery: Delivery[Asked]) -> None:
        request = delivery.message
        if isinstance(request, Undecodable):
            self._dead_letter(request)
            refusal = refuse_malformed(request)
            if refusal is not None and request.where is not None:
                topic, props = response_route(request.where, delivery.properties)
                self.client.publish(topic, wire.encode(refusal), qos=1, properties=props)
        else:
            response = answer(self.engine, request.request, allowlist=self.allowlist)
            topic, props = response_route(request.where, delivery.properties)
            self.client.publish(topic, wire.encode(response), qos=1, properties=props)
        if delivery.qos > 0:
            self.client.ack(delivery.mid, delivery.qos)

    def _dead_letter(self, message: Undecodable) -> None:
        with transaction(self.engine) as session:
            inbox.record_dead_letter(
                session, topic=message.topic, payload=message.payload, reason=message.reason
            )

    # --- allow-lists and configs, periodic jobs -------------------------------------------

    def _publisher_loop(self) -> None:
        while not self._stopping.wait(self.publish_interval):
            try:
                self.snapshots.publish_if_stale()
            except Exception:  # noqa: BLE001  (a database hiccup must not end the publisher)
                log.exception("publishing allow-lists failed; retrying")

    def _housekeeping_loop(self) -> None:
        """Run the periodic jobs (``jobs``), once a minute."""
        while not self._stopping.wait(self.housekeeping_interval):
            try:
                run_housekeeping(self.engine)
            except Exception:  # noqa: BLE001  (try again next round)
                log.exception("housekeeping failed; retrying next round")


def _all_published(sent: list[mqtt.MQTTMessageInfo]) -> bool | None:
    """Tell whether every publish is out: True, not yet (None), or never (False)."""
    try:
        return True if all(info.is_published() for info in sent) else None
    except (RuntimeError, ValueError):  # refused while disconnected: it will not go out
        return False
