"""The hub's periodic jobs, run as the worker's housekeeping loop runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.infra.clock import utcnow
from hub.infra.db import is_sqlite, reading, transaction
from hub.maintenance.models import TicketSource
from hub.maintenance.plans import add_plan
from hub.maintenance.tickets import live_tickets, open_ticket
from hub.worker import jobs
from hub.worker.heartbeats import NETWORK, WorkerHeartbeat
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


def test_housekeeping_runs_each_job_in_a_transaction_of_its_own(engine, monkeypatch):
    sessions = []
    monkeypatch.setattr(jobs, "sweep_bookings", sessions.append)
    monkeypatch.setattr(jobs, "open_due_tickets", sessions.append)
    assert run_housekeeping(engine)
    assert len(sessions) == 2 and sessions[0] is not sessions[1]


def test_a_failing_job_does_not_hold_back_the_other_and_is_raised(engine, monkeypatch):
    ran = []

    def broken(session):
        raise RuntimeError("sweep broke")

    monkeypatch.setattr(jobs, "sweep_bookings", broken)
    monkeypatch.setattr(jobs, "open_due_tickets", ran.append)
    with pytest.raises(RuntimeError, match="sweep broke"):
        run_housekeeping(engine)
    assert len(ran) == 1


def test_a_pass_is_skipped_when_another_worker_ran_one_within_the_gap(engine, monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "sweep_bookings", ran.append)
    monkeypatch.setattr(jobs, "open_due_tickets", ran.append)
    assert run_housekeeping(engine, min_gap=30)
    assert not run_housekeeping(engine, min_gap=30)  # another worker's turn came too soon
    assert run_housekeeping(engine, min_gap=0)
    assert len(ran) == 4
    with reading(engine) as session:
        row = session.get(WorkerHeartbeat, (NETWORK, "housekeeping"))
        assert row is not None and row.progress_at is not None


def test_no_two_workers_run_housekeeping_at_once_on_postgresql(engine, monkeypatch):
    if is_sqlite(engine):
        pytest.skip("SQLite has one writer at a time: no lock to hold")
    ran = []
    monkeypatch.setattr(jobs, "sweep_bookings", ran.append)
    monkeypatch.setattr(jobs, "open_due_tickets", ran.append)
    with engine.connect() as other_worker:  # holds the lock as a running pass would
        assert other_worker.execute(
            select(func.pg_try_advisory_lock(jobs.HOUSEKEEPING_LOCK))
        ).scalar()
        assert not run_housekeeping(engine)
        other_worker.execute(select(func.pg_advisory_unlock(jobs.HOUSEKEEPING_LOCK)))
        other_worker.commit()
    assert run_housekeeping(engine)
    assert len(ran) == 2


def test_the_database_keeps_one_live_schedule_ticket_per_plan_and_tool(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        steward = a_member(session, "Sam Steward", roles="steward")
        plan = add_plan(
            session,
            name="Blade check",
            steward_id=steward.id,
            tool_id=tool.id,
            every_days=1,
            now=utcnow() - timedelta(days=2),
        )
        plan_id, tool_id = plan.id, tool.id
    run_housekeeping(engine)
    with pytest.raises(IntegrityError), transaction(engine) as session:
        open_ticket(
            session,
            tool_id=tool_id,
            note="a second, racing pass",
            source=TicketSource.SCHEDULE,
            plan_id=plan_id,
        )
