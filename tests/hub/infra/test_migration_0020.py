"""Migration 0020: every site a kiosk is at becomes a site record where everyone may borrow."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from hub.infra import migrate
from hub.infra.db import make_engine, reading
from hub.inventory.sites import Site


def test_each_stored_kiosk_site_becomes_a_site_everyone_may_borrow_at(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0019_site_links")
    with engine.begin() as connection:
        for kiosk_id, site in (("a-1", "north"), ("a-2", "north"), ("b-1", "east")):
            connection.execute(
                text(
                    "INSERT INTO kiosk (id, site, name, registered_at) "
                    "VALUES (:id, :site, :id, '2026-01-01 00:00:00')"
                ),
                {"id": kiosk_id, "site": site},
            )
    migrate.upgrade(engine, "0020_sites")
    with reading(engine) as session:
        stored = [(s.id, s.name, s.policy) for s in session.exec(select(Site).order_by(Site.id))]
    assert stored == [("east", "east", "everyone"), ("north", "north", "everyone")]
    migrate.downgrade(engine, "0019_site_links")
    engine.dispose()
