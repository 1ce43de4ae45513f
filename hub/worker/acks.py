"""The form each kiosk's acks travel in: one ``EventAck`` per event (protocol v1), or, for a
kiosk whose status lists the ``batched_acks`` feature, ``EventAcks`` carrying a batch's worth.

Statuses are not shared between workers (every worker subscribes to them all), so each worker
knows every kiosk's choice; a kiosk that goes offline, or comes back without the feature (a
downgrade), gets single acks again.
"""

from __future__ import annotations

from collections.abc import Iterable

from broker import messages as wire
from broker.inbound import Cleared, KioskStatus
from broker.topics import Channel


class AckForms:
    """Which kiosks asked for batched acks, by their ``acks`` topic."""

    def __init__(self) -> None:
        self._batched: set[str] = set()

    def note(self, message: KioskStatus | Cleared) -> None:
        """Take a kiosk's status (or its cleared status) into account; cheap, any thread."""
        topic = message.where.topic_of(Channel.ACKS)
        if isinstance(message, KioskStatus) and message.availability.speaks(wire.BATCHED_ACKS):
            self._batched.add(topic)
        else:
            self._batched.discard(topic)

    def batched(self, ack_topic: str) -> bool:
        """Whether the kiosk reading ``ack_topic`` asked for batched acks."""
        return ack_topic in self._batched

    def payloads(self, acks: Iterable[tuple[str, wire.EventAck]]) -> list[tuple[str, bytes]]:
        """Return (topic, payload) pairs carrying ``acks``, in order per kiosk."""
        by_topic: dict[str, list[wire.EventAck]] = {}
        for topic, ack in acks:
            by_topic.setdefault(topic, []).append(ack)
        return [
            (topic, payload)
            for topic, topic_acks in by_topic.items()
            for payload in wire.encode_acks(topic_acks, batched=self.batched(topic))
        ]
