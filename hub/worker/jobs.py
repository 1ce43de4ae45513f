"""The hub's periodic jobs: release booking no-shows and open maintenance tickets that fell due.

They have nothing to do with MQTT; the worker runs them on a timer of their own
(``loop.IngestWorker``, its housekeeping loop) because it is the hub's one long-running process.
"""

from __future__ import annotations

from sqlalchemy import Engine

from hub.bookings import sweep_bookings
from hub.infra.db import transaction
from hub.maintenance.plans import open_due_tickets

HOUSEKEEPING_INTERVAL_S = 60.0


def run_housekeeping(engine: Engine) -> None:
    """Release booking no-shows and open the maintenance tickets now due, in one transaction."""
    with transaction(engine) as session:
        sweep_bookings(session)
        open_due_tickets(session)
