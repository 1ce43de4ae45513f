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
