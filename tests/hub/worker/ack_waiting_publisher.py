"""A kiosk stand-in for delivery tests: publish events until the hub acknowledges each one.

It does what the kiosk's outbox will do, with the outbox held in memory:

- publish each event at QoS 1 on the kiosk's ``events`` topic, in ``seq`` order, at most
  ``max_in_flight`` unacknowledged at a time;
- forget an event only when the hub's ``EventAck`` for its id arrives (``applied`` or
  ``duplicate``; ``rejected`` is recorded too, and a test treats it as a failure) — a PUBACK
  means nothing here;
- publish an event again when ``retry_after`` seconds passed without its ack, and every event
  in flight again after each reconnect.

Its client is the kiosk's own (client id = kiosk id, ``clean_start=False``, a session expiry),
so acks published while it was away arrive when it is back; it subscribes to its ``acks``
topic after every CONNACK, so a broker that lost the session (SIGKILL before a snapshot) still
delivers them. Paho reconnects by itself; nothing is published while it is disconnected (paho
would queue it in memory, where nobody can see it), and ``is_published()`` is never asked.

``copies(i)`` makes event ``i`` go out more than once on purpose: the second copy right after
the first (likely in the same hub batch), any further copy after ``echo_after`` more events
were sent (likely after the first copy was applied). Copies are not retries: they are sent once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt

from broker import messages as wire
from broker.client import connect_and_wait, make_client
from broker.topics import Channel, kiosk_topic

ACKED = frozenset({"applied", "duplicate"})


class AckWaitingPublisher:
    """Publish ``events`` as one kiosk and keep each until the hub's ack for it arrives."""

    def __init__(
        self,
        events: Sequence[wire.Event],
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        site: str,
        kiosk_id: str,
        max_in_flight: int = 100,
        retry_after: float = 1.5,
        session_expiry: int = 3600,
        copies: Callable[[int], int] = lambda _index: 1,
        echo_after: int = 50,
    ) -> None:
        if any(event.kiosk_id != kiosk_id for event in events):
            raise ValueError(f"every event must come from {kiosk_id!r}")
        if len({event.event_id for event in events}) != len(events):
            raise ValueError("event ids must be unique (copies are made with `copies`)")
        self.events_topic = kiosk_topic(site, kiosk_id, Channel.EVENTS)
        self.acks_topic = kiosk_topic(site, kiosk_id, Channel.ACKS)
        self.max_in_flight, self.retry_after = max_in_flight, retry_after
        self._payloads = {event.event_id: wire.encode(event) for event in events}
        self._copies = {event.event_id: copies(index) for index, event in enumerate(events)}
        self._echo_after = echo_after

        self._lock = threading.Condition()
        self._pending: deque[str] = deque(self._payloads)  # never sent yet, seq order
        self._in_flight: dict[str, float] = {}  # sent, unacked -> when last sent
        self._echoes: deque[tuple[int, str]] = deque()  # (send once this many were sent, id)
        self._first_sends = 0
        self._connected = False  # connected and subscribed to the acks topic
        self._resend_all = False
        self._stopping = threading.Event()

        # What a test may look at (read them under no lock once the publisher is done).
        self.acks: dict[str, list[str]] = {}  # event id -> statuses, in arrival order
        self.foreign_acks = 0  # acks for ids we never sent
        self.undecodable_acks = 0
        self.publishes = 0  # PUBLISH packets handed to paho, copies and retries included
        self.retries = 0  # events published again after retry_after or a reconnect
        self.connects = 0  # CONNACKs, the first included
        self.disconnects = 0

        self.client = make_client(
            kiosk_id,
            username,
            password,
            host=host,
            port=port,
            clean_start=False,
            session_expiry=session_expiry,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message  # before connecting: a resumed session
        self._pump = threading.Thread(target=self._run, name="ack-waiting-publisher", daemon=True)

    # --- life cycle -----------------------------------------------------------------------

    def start(self, *, timeout: float = 10.0) -> AckWaitingPublisher:
        """Connect (waiting for the CONNACK) and start publishing."""
        connect_and_wait(self.client, timeout=timeout)
        self._pump.start()
        return self

    def close(self) -> None:
        """Stop publishing and disconnect; safe to call twice and after a failed start."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if self._pump.is_alive():
            self._pump.join(5)
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> AckWaitingPublisher:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- what a test asks ---------------------------------------------------------------------

    @property
    def unacked(self) -> int:
        """Return how many events the hub has not acknowledged yet."""
        with self._lock:
            return len(self._pending) + len(self._in_flight)

    @property
    def acked(self) -> int:
        """Return how many distinct events the hub has acknowledged (applied or duplicate)."""
        with self._lock:
            return len(self._payloads) - len(self._pending) - len(self._in_flight)

    def wait_until_all_acked(self, timeout: float) -> bool:
        """Return True once every event is acknowledged, False after ``timeout`` seconds."""
        with self._lock:
            return self._lock.wait_for(
                lambda: not self._pending and not self._in_flight, timeout=timeout
            )

    def wait_until_acks_received(self, count: int, timeout: float) -> bool:
        """Return True once ``count`` acks (copies included) arrived, False after ``timeout``."""
        with self._lock:
            return self._lock.wait_for(lambda: self.acks_received >= count, timeout=timeout)

    @property
    def acks_received(self) -> int:
        return sum(len(statuses) for statuses in self.acks.values())

    def status_counts(self) -> Counter[str]:
        """Return how many acks of each status arrived (every copy's ack counted)."""
        with self._lock:
            return Counter(status for statuses in self.acks.values() for status in statuses)

    def applied_per_event(self) -> Counter[int]:
        """Return how many events got 0, 1, 2... ``applied`` acks."""
        with self._lock:
            return Counter(self.acks.get(eid, []).count("applied") for eid in self._payloads)

    def summary(self) -> str:
        """Return one line of what happened, for a test's output."""
        return (
            f"{len(self._payloads)} events, {self.unacked} unacked; {self.publishes} publishes "
            f"({self.retries} retries); acks {dict(self.status_counts())}; "
            f"{self.connects} connects, {self.disconnects} disconnects"
        )

    # --- paho's network thread: record, notify, nothing else -----------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            return
        with self._lock:
            self.connects += 1
        # Every time: a broker killed before its snapshot has forgotten the subscription.
        client.subscribe(self.acks_topic, qos=1)

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:
        if any(code.is_failure for code in reason_codes):
            return
        with self._lock:
            self._connected, self._resend_all = True, True
            self._lock.notify_all()

    def _on_disconnect(self, _client, _userdata, _flags, _reason_code, _props) -> None:
        with self._lock:
            self._connected = False
            self.disconnects += 1

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        try:
            ack = wire.decode_ack(message.payload)
        except wire.MalformedMessage:
            with self._lock:
                self.undecodable_acks += 1
            return
        with self._lock:
            if ack.event_id not in self._payloads:
                self.foreign_acks += 1
                return
            self.acks.setdefault(ack.event_id, []).append(ack.status)
            # A rejected event is settled too: the kiosk drops it (and logs it).
            self._in_flight.pop(ack.event_id, None)
            self._lock.notify_all()

    # --- the pump: our own thread ---------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                sends = self._due() if self._connected else []
                if not sends:
                    self._lock.wait(0.05)
                    continue
            for event_id in sends:
                self._publish(event_id)

    def _due(self) -> list[str]:
        """Return the ids to publish now, in order (called under the lock)."""
        now = time.monotonic()
        if self._resend_all:
            self._resend_all = False
            retry = list(self._in_flight)
        else:
            retry = [eid for eid, sent in self._in_flight.items() if now - sent >= self.retry_after]
        self.retries += len(retry)
        sends = list(retry)
        while self._pending and len(self._in_flight) < self.max_in_flight:
            event_id = self._pending.popleft()
            self._first_sends += 1
            copies = self._copies[event_id]
            sends += [event_id] * min(copies, 2)
            for _ in range(copies - 2):
                self._echoes.append((self._first_sends + self._echo_after, event_id))
            self._in_flight[event_id] = now
        for event_id in retry:
            self._in_flight[event_id] = now
        while self._echoes and (self._echoes[0][0] <= self._first_sends or not self._pending):
            sends.append(self._echoes.popleft()[1])
        return sends

    def _publish(self, event_id: str) -> None:
        info = self.client.publish(self.events_topic, self._payloads[event_id], qos=1)
        # NO_CONN: paho queued it in memory and sends it after the reconnect; count it as sent.
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            with self._lock:
                self.publishes += 1


def publisher_for(broker: Any, events: Sequence[wire.Event], **options: Any) -> AckWaitingPublisher:
    """Return a publisher speaking as ``events``' kiosk on ``broker`` (a LocalBroker)."""
    kiosk_id = events[0].kiosk_id
    credentials = broker.credentials[kiosk_id]
    return AckWaitingPublisher(
        events,
        host=broker.host,
        port=broker.port,
        username=credentials.username,
        password=credentials.password,
        site=broker.site,
        kiosk_id=kiosk_id,
        **options,
    )
