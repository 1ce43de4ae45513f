"""Health measured independently: /healthz asks the database one trivial thing; /healthz/ingest
judges the ingest from the heartbeat rows it writes; the kiosk pages say when the kiosks'
states are stale because the ingest is not running; reads never wait behind a writer."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from dashboard import create_app, database
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.worker import heartbeats

LOOPS = ("events", "requests", "publisher", "housekeeping", "heartbeat", "broker")


def beat(engine, *, age: timedelta = timedelta(0), stopped: bool = False) -> None:
    """Write worker hub-ingest-1's heartbeat rows as if its loops came round ``age`` ago."""
    at = utcnow() - age
    with transaction(engine) as session:
        for loop in LOOPS:
            heartbeats.record_beat(
                session, "hub-ingest-1", loop, beat_at=at, progress_at=at, now=at
            )
        if stopped:
            heartbeats.record_stopped(session, "hub-ingest-1", now=at)


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_answers_503_when_the_database_cannot_be_reached(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-dir' / 'hub.db'}",
            "DATA_DIR": str(tmp_path),
            "TESTING": True,
        }
    )
    try:
        response = app.test_client().get("/healthz")
    finally:
        database.dispose(app)
    assert response.status_code == 503
    assert response.json["status"] == "database unreachable"


def test_healthz_ingest_is_503_until_an_ingest_has_reported(client):
    response = client.get("/healthz/ingest")
    assert response.status_code == 503 and response.json["status"] == "never"


def test_healthz_ingest_is_200_while_every_loop_beats(client, engine):
    beat(engine)
    response = client.get("/healthz/ingest")
    assert response.status_code == 200, response.json
    document = response.json
    assert document["status"] == "running" and document["last_batch_at"]
    assert set(document["workers"]["hub-ingest-1"]) == set(LOOPS)
    assert all(loop["alive"] for loop in document["workers"]["hub-ingest-1"].values())


def test_healthz_ingest_is_503_when_the_heartbeats_went_stale(client, engine):
    beat(engine, age=timedelta(minutes=3))
    response = client.get("/healthz/ingest")
    assert response.status_code == 503
    assert response.json["status"] == "stuck" and response.json["down_since"]


def test_healthz_ingest_is_503_when_the_ingest_was_stopped(client, engine):
    beat(engine, stopped=True)
    response = client.get("/healthz/ingest")
    assert response.status_code == 503 and response.json["status"] == "stopped"


def test_kiosk_pages_show_the_ingest_down_and_kiosk_states_unknown(steward, engine):
    beat(engine, age=timedelta(minutes=3))
    fleet = steward.get("/steward/kiosks").get_data(as_text=True)
    assert "Hub ingest not running" in fleet and "3 min" in fleet
    assert 'class="pill unknown"' in fleet and 'class="pill online"' not in fleet
    front = steward.get("/steward/").get_data(as_text=True)
    assert 'id="ingest-down"' in front and "Kiosk states are unknown" in front
    assert "<strong>2</strong> kiosks to check" in front  # both demo kiosks, state unknown


def test_kiosk_pages_show_states_as_recorded_while_the_ingest_runs(steward, engine):
    beat(engine)
    fleet = steward.get("/steward/kiosks").get_data(as_text=True)
    assert "Hub ingest not running" not in fleet and 'class="pill unknown"' not in fleet
    assert 'id="ingest-down"' not in steward.get("/steward/").get_data(as_text=True)


def test_the_front_page_signature_moves_when_the_ingest_stops_beating(steward, engine):
    beat(engine)
    fresh = steward.get("/steward/live").headers["ETag"]
    beat(engine, age=timedelta(minutes=3))
    assert steward.get("/steward/live", headers={"If-None-Match": fresh}).status_code == 200


@pytest.fixture
def write_lock(database_url):
    """Another connection holding the SQLite database's write lock until the test ends."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("a PostgreSQL read never waits for a writer's lock")
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held_by_test (x)")  # a write in hand, not yet committed
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def test_reads_answer_while_another_connection_holds_the_write_lock(steward, write_lock):
    for path in ("/healthz", "/steward/", "/steward/kiosks", "/steward/tools", "/"):
        response = steward.get(path)
        assert response.status_code == 200, path
    assert write_lock.in_transaction  # answered while the lock was still held
