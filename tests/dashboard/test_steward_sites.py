"""The kiosks page shows each bridged site's link: a cut-off site first, with its backlog."""

from __future__ import annotations

from datetime import timedelta

from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.inventory import fleet


def test_a_cut_off_site_shows_first_with_when_and_its_kiosks_backlog(client, steward, engine):
    assert 'id="sites"' not in client.get("/steward/kiosks").get_data(as_text=True)
    with transaction(engine) as session:
        fleet.record_site_link(session, "north", True)
        fleet.record_site_link(session, "main", False, at=utcnow() - timedelta(minutes=12))
    page = client.get("/steward/kiosks").get_data(as_text=True)
    sites = page[page.index('id="sites"') : page.index("</section>", page.index('id="sites"'))]
    assert sites.index('id="site-main"') < sites.index('id="site-north"')
    main_row = sites[sites.index('id="site-main"') :]
    assert "cut off" in main_row and "12 min ago" in main_row


def test_a_kiosk_of_a_cut_off_site_is_not_shown_online(client, steward, engine):
    from hub.inventory.fleet import record_availability

    with transaction(engine) as session:
        record_availability(session, "shed-1", state="online", since=utcnow(), outbox_backlog=0)
        fleet.record_site_link(session, "north", False, at=utcnow() - timedelta(minutes=3))
    page = client.get("/steward/kiosks").get_data(as_text=True)
    shed = page[page.index("<h2>shed-1") : page.index("</h2>", page.index("<h2>shed-1"))]
    assert "cut off with north" in shed and ">online<" not in shed
    with transaction(engine) as session:
        fleet.record_site_link(session, "north", True)
    page = client.get("/steward/kiosks").get_data(as_text=True)
    shed = page[page.index("<h2>shed-1") : page.index("</h2>", page.index("<h2>shed-1"))]
    assert ">online<" in shed
