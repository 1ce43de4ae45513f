"""The hub's MQTT worker: the connection to the broker and the worker's supervised loops.

Paho's network thread decodes each message at the door (``broker.inbound.from_kiosk``: topic
and payload, once) and hands the typed value to a queue; no database there, and nothing raised
back into paho. Loops of ours, each supervised (``supervisor``: logged, backed off, retried;
the process gives up after repeated failure), take it from there:
- events: batches of events and kiosk statuses applied in one transaction (``batches``); after
  the commit, the hub's acknowledgement goes to each kiosk and only then the MQTT PUBACK to the
  broker (manual acks), so a worker killed at any point leaves every event either committed or
  still queued at the broker.
- requests: questions a kiosk cannot answer alone (``answers``), answered on the MQTT v5
  response topic.
- publisher: republishes allow-lists and configs when the sync version moved (``snapshots``).
- housekeeping: the hub's periodic jobs (``jobs``), on a timer of their own.
- heartbeat: writes each loop's heartbeat row (``heartbeats``) for ``/healthz/ingest``.
- broker: counts a refused CONNECT, or a callback that failed, as a failure.
A database that cannot be reached holds the batch in hand (un-PUBACKed) until it is back.
``run_forever`` tells systemd it is ready and, while every loop comes round, alive
(``watchdog``); it ends, raising ``IngestGaveUp``, when a loop gave up.
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
from broker.client import ConnectRefused, Will, make_client
from broker.inbound import Cleared, FromKiosk, KioskRequest, KioskStatus, Undecodable, from_kiosk
from broker.topics import (
    BRIDGE_STATE_FILTER,
    HUB_EVENTS_SHARED,
    HUB_REQUESTS_SHARED,
    HUB_STATUS_FILTER,
    HUB_STATUS_TOPIC,
    Channel,
    hub_online_payload,
)
from hub.infra.clock import utcnow
from hub.infra.db import DatabaseUnavailable, is_unavailable, transaction
from hub.worker import heartbeats, inbox
from hub.worker.acks import AckForms
from hub.worker.answers import answer, refuse_malformed, response_route
from hub.worker.batches import BatchResult, Ingested, apply_batch, apply_one_by_one
from hub.worker.jobs import HOUSEKEEPING_INTERVAL_S, run_housekeeping
from hub.worker.snapshots import SnapshotPublisher
from hub.worker.supervisor import MAX_FAILURES, STALL_AFTER_S, Backoff, Supervisor
from hub.worker.watchdog import SystemdNotifier, heartbeat_interval

log = logging.getLogger("commonshed.ingest")
# NOTE: no session: Mosquitto (2.0.11) keeps handing an offline session its share of a shared
# subscription, so a stopped worker would strand 1/N of the events. Kiosks keep every event
# until the hub's own ack and resend when the hub says it is online, so nothing is lost.
SESSION_EXPIRY_S = 0
BATCH_MAX = 500
ACK_PUBLISH_TIMEOUT_S = 5.0
HEARTBEAT_ROW_INTERVAL_S = 2.0  # how often each loop's heartbeat row is written
REQUEST_TRIES = 3  # a request that fails this often for another reason than the database: dropped

Asked = KioskRequest | Undecodable  # what the requests loop takes in
M = TypeVar("M", bound=FromKiosk)


class IngestGaveUp(RuntimeError):
    """A loop of the ingest failed too often in a row; the process should exit non-zero."""


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
        max_failures: int = MAX_FAILURES,
        backoff: Backoff | None = None,
        stall_after: float = STALL_AFTER_S,
        heartbeat_row_interval: float = HEARTBEAT_ROW_INTERVAL_S,
        notifier: SystemdNotifier | None = None,
        watchdog_interval: float | None = None,
    ) -> None:
        self.engine, self.name, self.publish_interval = engine, client_id, publish_interval
        self.housekeeping_interval = housekeeping_interval
        self.heartbeat_row_interval = heartbeat_row_interval
        self.events: queue.Queue[Delivery[Ingested]] = queue.Queue()
        self.requests: queue.Queue[Delivery[Asked]] = queue.Queue()
        self._stopping = threading.Event()
        self.supervisor = Supervisor(
            self._stopping, max_failures=max_failures, backoff=backoff, stall_after=stall_after
        )
        self.notifier = notifier or SystemdNotifier()
        self.watchdog_interval = watchdog_interval or heartbeat_interval()
        # (deadline, the acks published, the batch) waiting for the acks to be out
        self._awaiting_puback: deque[
            tuple[float, list[mqtt.MQTTMessageInfo], list[Delivery[Ingested]]]
        ] = deque()
        self._in_hand: list[Delivery[Ingested]] = []  # a batch the database did not take yet
        self._asking: Delivery[Asked] | None = None  # a request not answered yet
        self._asking_tries = 0
        self._housekeeping_due = time.monotonic() + housekeeping_interval
        self._refused: ReasonCode | None = None  # the broker's last CONNACK, if a refusal
        self._callback_error: Exception | None = None  # raised in paho's thread, counted here
        self.client = make_client(
            client_id,
            username,
            password,
            host=host,
            port=port,
            clean_start=True,
            session_expiry=SESSION_EXPIRY_S,
            will=Will(HUB_STATUS_TOPIC, hub_online_payload(False, worker=client_id)),
        )
        self.client.manual_ack_set(True)
        # NOTE: paho's default backs off to 120 s; after a broker outage the hub should be back
        # within seconds, as the kiosks are.
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.snapshots = SnapshotPublisher(engine, self.client)
        # NOTE: a kiosk takes an allow-list that reaches it after an event's ack as showing
        # that event (kiosk.lockers settles its marks so). An allow-list built before a commit
        # and published after its acks broke that: a kiosk refused a tool it had just seen
        # returned. Acks and allow-lists are published in turn: either the acks go first and
        # the allow-list is built after the commit, or the stale allow-list goes first.
        self._publishing = threading.Lock()
        self.ack_forms = AckForms()  # which kiosks asked for batched acks (their status says)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    @property
    def allowlist(self) -> wire.AllowList | None:
        """The allow-list last built for the kiosks (member questions are answered from it)."""
        return self.snapshots.allowlist

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> IngestWorker:
        """Connect and start the worker's supervised loops."""
        self.client.loop_start()
        start = self.supervisor.start
        start("events", self._events_step)
        start("requests", self._requests_step)
        start("publisher", self._publisher_step, pause=self.publish_interval)
        start("housekeeping", self._housekeeping_step, pause=min(1.0, self.housekeeping_interval))
        start("heartbeat", self._heartbeat_step, pause=self.heartbeat_row_interval)
        start("broker", self._broker_step, pause=0.5)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand, then disconnect (the broker keeps the rest for us)."""
        self._stopping.set()
        self.supervisor.join(timeout)
        self._puback_confirmed(wait=True)
        self._record_stopped()
        if self.client.is_connected():  # a clean disconnect sends no last will: say it
            self._say_online(False)
        self.client.disconnect()
        self.client.loop_stop()
        self.notifier.close()

    def stop_soon(self) -> None:
        """Ask ``run_forever`` to return (safe from a signal handler)."""
        self._stopping.set()

    def run_forever(self) -> None:
        """Run until stopped (SIGTERM, Ctrl-C); raise ``IngestGaveUp`` if a loop gave up.

        Meanwhile tell systemd it is ready, then alive, but only while every loop comes round:
        a stuck loop silences the watchdog and systemd restarts the process.
        """
        self.start()
        self.notifier.ready()
        try:
            while not self._stopping.wait(self.watchdog_interval):
                self._watch()
        finally:
            self.notifier.stopping()
            self.stop()
        if self.supervisor.gave_up:
            raise IngestGaveUp(self.supervisor.gave_up)

    def _watch(self) -> None:
        dead = self.supervisor.dead_loop()
        if dead is not None:
            self.supervisor.give_up(f"the {dead} loop ended")
            return
        trouble = self.supervisor.trouble()
        if trouble is None:
            self.notifier.heartbeat()
        else:
            log.error("not telling systemd's watchdog the ingest is alive: %s", trouble)

    # --- paho's network thread: decode and hand over; no database, nothing raised ---------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _props: Properties | None,
    ) -> None:
        try:
            if reason_code.is_failure:
                log.error("broker refused the hub: %s", reason_code)
                self._refused = reason_code
                return
            self._refused = None
            # Subscribing again on a resumed session is harmless and covers one that expired.
            client.subscribe(
                [
                    (HUB_EVENTS_SHARED, 1),
                    (HUB_REQUESTS_SHARED, 1),
                    (HUB_STATUS_FILTER, 1),
                    (BRIDGE_STATE_FILTER, 1),
                ]
            )
            self.snapshots.forget_published()  # a broker restarted without persistence lost them
            # After the subscriptions: a kiosk that sees the hub online resends at once.
            self._say_online(True)
        except Exception as error:  # noqa: BLE001  (never into paho's thread; counted instead)
            log.exception("handling the broker's CONNACK failed")
            self._callback_error = error

    def _say_online(self, online: bool) -> None:
        payload = hub_online_payload(online, worker=self.name)
        self.client.publish(HUB_STATUS_TOPIC, payload, qos=1, retain=True)

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        """Decode the message, the one time it is decoded, and queue it for its loop."""
        try:
            self._hand_over(message)
        except Exception as error:  # noqa: BLE001  (unacked: the broker redelivers it)
            log.exception("taking in a message on %s failed", message.topic)
            self._callback_error = error

    def _hand_over(self, message: mqtt.MQTTMessage) -> None:
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

    def _broker_step(self) -> None:
        """Raise what paho's thread met: a refused CONNECT, a callback that failed."""
        failed, self._callback_error = self._callback_error, None
        if failed is not None:
            raise failed
        if self._refused is not None:
            raise ConnectRefused(self._refused)

    # --- events ---------------------------------------------------------------------------

    def _events_step(self) -> None:
        """Apply the batch in hand (one the database did not take yet) or the next one."""
        batch = self._in_hand or self._take_batch(self.events)
        if batch:
            self._in_hand = batch
            self._process_and_acknowledge(batch)
            self._in_hand = []
            self.supervisor.progressed("events")
        self._puback_confirmed()

    def _process_and_acknowledge(self, batch: list[Delivery[Ingested]]) -> None:
        """Apply a batch, publish each event's ack to its kiosk, and queue the batch for its
        PUBACK to the broker, sent once every one of those acks is out (``_puback_confirmed``).

        A database that cannot be reached raises ``DatabaseUnavailable``: nothing is acked or
        PUBACKed, and the batch stays in hand for the next try.

        NOTE: paho sends a PUBACK at once but holds publishes beyond its 20 in flight; a worker
        killed in between would leave committed events the broker will not redeliver and the
        kiosks not yet acknowledged. Waiting here would idle the database meanwhile, so the
        next batch is applied while this one's acks travel.
        """
        try:
            result = self.process_batch(batch)
        except Exception as error:  # noqa: BLE001  (a bug in one applier must not stop the worker)
            if is_unavailable(error):
                raise DatabaseUnavailable(f"batch of {len(batch)} kept for later") from error
            log.exception("batch of %d failed; applying one by one", len(batch))
            result = apply_one_by_one(self.engine, [delivery.message for delivery in batch])
        with self._publishing:
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

    def _requests_step(self) -> None:
        """Answer the request in hand (one that failed before) or the next one."""
        if self._asking is None:
            try:
                self._asking, self._asking_tries = self.requests.get(timeout=0.2), 0
            except queue.Empty:
                return
        self._asking_tries += 1
        try:
            self._answer(self._asking)
        except Exception as error:
            if is_unavailable(error) or self._asking_tries < REQUEST_TRIES:
                raise
            log.exception("request dropped after %d tries", self._asking_tries)
            self._ack(self._asking)
        self._asking = None
        self.supervisor.progressed("requests")

    def _answer(self, delivery: Delivery[Asked]) -> None:
        request = delivery.message
        if isinstance(request, Undecodable):
            self._dead_letter(request)
            refusal = refuse_malformed(request)
            if refusal is not None and request.where is not None:
                topic, props = response_route(request.where, delivery.properties)
                self.client.publish(topic, wire.encode(refusal), qos=1, properties=props)
        else:
            allowlist = self.snapshots.allowlist_for(request.where.site)
            response = answer(
                self.engine, request.request, allowlist=allowlist, where=request.where
            )
            topic, props = response_route(request.where, delivery.properties)
            self.client.publish(topic, wire.encode(response), qos=1, properties=props)
        self._ack(delivery)

    def _ack(self, delivery: Delivery[Asked]) -> None:
        if delivery.qos > 0:
            self.client.ack(delivery.mid, delivery.qos)

    def _dead_letter(self, message: Undecodable) -> None:
        with transaction(self.engine) as session:
            inbox.record_dead_letter(
                session, topic=message.topic, payload=message.payload, reason=message.reason
            )

    # --- allow-lists and configs, periodic jobs, heartbeats -------------------------------

    def _publisher_step(self) -> None:
        with self._publishing:
            self.snapshots.publish_if_stale()
        self.supervisor.progressed("publisher")

    def _housekeeping_step(self) -> None:
        """Run the periodic jobs (``jobs``) when due; a failed pass is due again at once."""
        if time.monotonic() < self._housekeeping_due:
            return
        run_housekeeping(self.engine, min_gap=self.housekeeping_interval / 2)
        self._housekeeping_due = time.monotonic() + self.housekeeping_interval
        self.supervisor.progressed("housekeeping")

    def _heartbeat_step(self) -> None:
        """Write each loop's heartbeat row: when it last came round, did work, failed."""
        now = utcnow()
        with transaction(self.engine) as session:
            for state in list(self.supervisor.loops.values()):
                heartbeats.record_beat(
                    session,
                    self.name,
                    state.name,
                    beat_at=state.beat_at,
                    progress_at=state.progress_at,
                    failures=state.failures,
                    last_error=state.last_error,
                    last_error_at=state.last_error_at,
                    now=now,
                )
        self.supervisor.progressed("heartbeat")

    def _record_stopped(self) -> None:
        try:
            with transaction(self.engine) as session:
                heartbeats.record_stopped(session, self.name)
        except Exception:  # noqa: BLE001  (stopping anyway; the rows then just go stale)
            log.warning("could not mark the heartbeat rows stopped", exc_info=True)


def _all_published(sent: list[mqtt.MQTTMessageInfo]) -> bool | None:
    """Tell whether every publish is out: True, not yet (None), or never (False)."""
    try:
        return True if all(info.is_published() for info in sent) else None
    except (RuntimeError, ValueError):  # refused while disconnected: it will not go out
        return False
