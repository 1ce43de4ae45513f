"""The ingest as the web sees it, from the heartbeat rows it writes (``hub.worker.heartbeats``):
is every loop of every running worker coming round, and when did a batch last commit.

Judged from the database, not by asking the ingest: a dead, frozen or paused ingest simply
stops writing, and its rows go stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from hub.infra.clock import as_utc, utcnow
from hub.worker.heartbeats import NETWORK, WorkerHeartbeat, heartbeats

# Heartbeat rows are written every 2 s and a loop beats at least every second or two when idle;
# a beat older than this means the loop is not coming round (or is waiting on a lock that long),
# and the dashboard says so within the 10 s a steward should wait to see a fault.
STALE_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class LoopHealth:
    """One loop of one worker: its last beat and work, its failures, and whether it is alive."""

    worker: str
    loop: str
    beat_at: datetime
    progress_at: datetime | None
    failures: int
    last_error: str | None
    alive: bool


@dataclass(frozen=True)
class IngestHealth:
    """The ingest at a glance: running or not, since when, and when it last took a batch."""

    loops: list[LoopHealth]
    last_batch_at: datetime | None
    last_housekeeping_at: datetime | None
    stopped_at: datetime | None  # every worker stopped cleanly, the last at this time

    @property
    def running(self) -> bool:
        """Tell whether some worker runs and every loop of every running worker is alive."""
        return bool(self.loops) and all(loop.alive for loop in self.loops)

    @property
    def state(self) -> str:
        """Say it in a word: running, stuck (a loop stopped coming round), stopped or never."""
        if self.running:
            return "running"
        if self.loops:
            return "stuck"
        return "stopped" if self.stopped_at else "never"

    @property
    def kiosk_states_stale(self) -> bool:
        """Tell whether the kiosks' recorded states are stale: an ingest ran and stopped or got
        stuck, so what kiosks report is no longer recorded (never ran: nothing to judge by)."""
        return self.state in ("stuck", "stopped")

    @property
    def down_since(self) -> datetime | None:
        """Return since when the ingest has not been running (None if it runs or never ran)."""
        if self.running:
            return None
        stale = [loop.beat_at for loop in self.loops if not loop.alive]
        return min(stale) if stale else self.stopped_at


def ingest_health(session: Session, *, now: datetime | None = None) -> IngestHealth:
    """Return the ingest's health from its heartbeat rows, as of ``now``."""
    now = now or utcnow()
    rows = heartbeats(session)
    workers = [row for row in rows if row.worker != NETWORK]
    running = [row for row in workers if row.stopped_at is None]
    stopped = [as_utc(row.stopped_at) for row in workers if row.stopped_at is not None]
    return IngestHealth(
        loops=[_loop(row, now) for row in running],
        last_batch_at=_latest(row.progress_at for row in workers if row.loop == "events"),
        last_housekeeping_at=_latest(
            row.progress_at for row in rows if row.worker == NETWORK and row.loop == "housekeeping"
        ),
        stopped_at=max(stopped) if stopped and not running else None,
    )


def _loop(row: WorkerHeartbeat, now: datetime) -> LoopHealth:
    beat_at = as_utc(row.beat_at)
    return LoopHealth(
        worker=row.worker,
        loop=row.loop,
        beat_at=beat_at,
        progress_at=as_utc(row.progress_at) if row.progress_at else None,
        failures=row.failures,
        last_error=row.last_error,
        alive=now - beat_at <= STALE_AFTER,
    )


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    found = [as_utc(moment) for moment in moments if moment]
    return max(found) if found else None
