"""Health, measured independently of the part it judges: load balancers and monitors ask here.

- ``/healthz``: 200 when the web process can reach its database (one trivial read).
- ``/healthz/ingest``: the MQTT ingest judged from the heartbeat rows it writes; 503 when it
  is stuck, stopped or never ran, so a monitor sees a dead ingest even though the web is fine.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, jsonify

from dashboard.database import engine, reading
from hub.infra.db import ping
from hub.queries.ingest import IngestHealth, ingest_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    """Answer 200 if the database answers a trivial read, else 503 naming why."""
    try:
        ping(engine())
    except Exception as error:  # noqa: BLE001  (whatever it is, the answer is "not healthy")
        return jsonify(status="database unreachable", error=type(error).__name__), 503
    return jsonify(status="ok"), 200


@bp.get("/healthz/ingest")
def ingest() -> tuple[Response, int]:
    """Say whether every loop of the ingest comes round and when a batch last committed."""
    with reading() as session:
        health = ingest_health(session)
    return jsonify(_document(health)), 200 if health.running else 503


def _document(health: IngestHealth) -> dict[str, object]:
    workers: dict[str, dict[str, object]] = {}
    for loop in health.loops:
        workers.setdefault(loop.worker, {})[loop.loop] = {
            "alive": loop.alive,
            "beat_at": _iso(loop.beat_at),
            "progress_at": _iso(loop.progress_at),
            "failures": loop.failures,
            "last_error": loop.last_error,
        }
    return {
        "status": health.state,
        "down_since": _iso(health.down_since),
        "last_batch_at": _iso(health.last_batch_at),
        "last_housekeeping_at": _iso(health.last_housekeeping_at),
        "workers": workers,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
