"""The reports page for the whole network or one site: the site choice, and figures that
differ by site."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hub.infra.db import reading
from hub.queries import reports
from tests.dashboard import site_fixtures

SVG = "{http://www.w3.org/2000/svg}"
south = site_fixtures.south


def drawn(page: str, title: str) -> list[tuple[str, int]]:
    """Return the bars of the chart called ``title`` on ``page``."""
    for part in page.split('<figure class="card">')[1:]:
        svg = ET.fromstring(part.split("</figure>")[0])
        if svg.find(f"{SVG}title").text == title:
            return [
                (r.get("data-label"), int(float(r.get("data-value"))))
                for r in svg.iter(f"{SVG}rect")
                if r.get("class") == "bar"
            ]
    raise AssertionError(f"no chart {title!r}")


def chosen(page: str) -> list[str]:
    nav = page[page.index('<nav class="sites"') : page.index("</nav>", page.index('class="sites"'))]
    return re.findall(r'aria-current="page">([^<]+)</a>', nav)


def site_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-site="([^"]+)">', page)


def test_the_network_view_marks_whole_network_and_sets_the_sites_side_by_side(
    client, steward, south
):
    page = client.get("/steward/reports").get_data(as_text=True)
    assert chosen(page) == ["Whole network"]
    assert page.index("Whole network") < page.index('href="/steward/reports?site=north"')
    assert 'href="/steward/reports?site=south"' in page
    assert site_rows(page) == ["north", "south"]
    south_row = page[page.index('<tr data-site="south">') :].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', south_row)[:3] == ["1", "1", "1"]


def test_one_site_shows_its_own_figures(client, steward, south, engine):
    network = client.get("/steward/reports").get_data(as_text=True)
    page = client.get("/steward/reports?site=south").get_data(as_text=True)
    assert chosen(page) == ["south"] and "<h1>Reports: south</h1>" in page
    assert site_rows(page) == [] and re.findall(r'<section [^>]*data-site="(\w+)"', page) == [
        "south"
    ]
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert figures["Kiosks"] == "1" and figures["Loans this month"] == "1"
    assert figures["Overdue loans"] == "0" and len(figures) == 7
    assert drawn(page, "Most borrowed tools") == [("SOUTH-1", 1)]
    assert drawn(network, "Most borrowed tools") != drawn(page, "Most borrowed tools")
    with reading(engine) as session:
        north = reports.report(session, "north")
    north_page = client.get("/steward/reports?site=north").get_data(as_text=True)
    assert drawn(north_page, "Most borrowed tools") == north.most_borrowed
    assert north.most_borrowed and ("SOUTH-1", 1) not in north.most_borrowed
    weekly = [n for _, n in drawn(north_page, "Loans per week")]
    assert weekly == [n for _, n in north.loans_per_week]


def test_a_site_no_kiosk_is_at_is_not_found(client, steward, south):
    refused = client.get("/steward/reports?site=east")
    assert refused.status_code == 404
    assert "east" in refused.get_data(as_text=True)
