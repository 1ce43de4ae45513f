"""The hub's periodic jobs: release booking no-shows, open maintenance tickets that fell due,
and pair the kiosk events held past their wait for a gap in their kiosk's sequence.

They have nothing to do with MQTT; the worker runs them on a timer of their own
(``loop.IngestWorker``, its housekeeping loop) because it is the hub's one long-running process.
"""

from __future__ import annotations

from sqlalchemy import Engine

from hub.bookings import sweep_bookings
from hub.infra.db import transaction
from hub.maintenance.plans import open_due_tickets
from hub.worker.events import release_held_events

HOUSEKEEPING_INTERVAL_S = 60.0


def run_housekeeping(engine: Engine) -> None:
    """Release booking no-shows, open the maintenance tickets now due and pair the events
    held too long, in one transaction."""
    with transaction(engine) as session:
        sweep_bookings(session)
        open_due_tickets(session)
        release_held_events(session)
