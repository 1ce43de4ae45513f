"""The hub's periodic jobs, run as the worker's housekeeping loop runs them."""

from __future__ import annotations

from datetime import timedelta

from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.maintenance.plans import add_plan
from hub.maintenance.tickets import live_tickets
from hub.worker import jobs
from hub.worker.jobs import run_housekeeping
from tests.hub.builders import a_kiosk, a_member, a_tool


def test_housekeeping_opens_the_maintenance_tickets_that_fell_due(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        steward = a_member(session, "Sam Steward", roles="steward")
        add_plan(
            session,
            name="Blade check",
            steward_id=steward.id,
            tool_id=tool.id,
            every_days=1,
            now=utcnow() - timedelta(days=2),
        )
    run_housekeeping(engine)
    run_housekeeping(engine)  # a due plan has one ticket, however often the job runs
    with reading(engine) as session:
        (ticket,) = live_tickets(session, tool_id=tool.id)
        assert "Blade check" in ticket.note


def test_housekeeping_runs_both_jobs_in_one_transaction(engine, monkeypatch):
    sessions = []
    monkeypatch.setattr(jobs, "sweep_bookings", sessions.append)
    monkeypatch.setattr(jobs, "open_due_tickets", sessions.append)
    run_housekeeping(engine)
    assert len(sessions) == 2 and sessions[0] is sessions[1]
