"""Charts: well-formed, accessible SVG whose bars are drawn to the data's scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from dashboard import charts
from hub.infra.db import reading
from hub.queries import charts as series

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def bar_rects(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


WEEKS = [
    (date(2026, 9, 7), 4),
    (date(2026, 9, 14), 0),
    (date(2026, 9, 21), 10),
    (date(2026, 9, 28), 7),
]


def test_column_chart_bars_match_the_data():
    svg = charts.column_chart(
        "Loans per week",
        "Loans in four weeks.",
        charts.bars(WEEKS, label=str),
        x_label="Week",
        y_label="Loans",
    )
    root = parse(svg)
    rects = bar_rects(root)
    assert [float(r.get("data-value")) for r in rects] == [4, 0, 10, 7]
    heights = [float(r.get("height")) for r in rects]
    assert heights[1] == 0 and heights[2] == max(heights)
    assert heights[0] / heights[2] == pytest.approx(0.4, abs=0.01)
    assert heights[3] / heights[2] == pytest.approx(0.7, abs=0.01)
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 1) for r in rects}
    assert len(bottoms) == 1  # every bar stands on the same axis


def test_chart_is_accessible_and_labelled():
    root = parse(
        charts.column_chart(
            "Repairs", "Repairs per month.", charts.bars(WEEKS), x_label="Month", y_label="Repairs"
        )
    )
    assert root.get("role") == "img" and root.get("aria-label") == "Repairs"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Repairs" and desc.text == "Repairs per month."
    assert set(root.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Month" in texts and "Repairs" in texts and "10" in texts  # axis labels, top tick
    assert all(r.find(f"{SVG}title").text.count(":") == 1 for r in bar_rects(root))


def test_ranked_chart_widths_are_proportional_and_labels_escaped():
    pairs = [("<SAW-1>", 8), ("DRILL-1", 2)]
    root = parse(
        charts.ranked_chart("Most borrowed", "Top tools.", charts.bars(pairs), x_label="Loans")
    )
    first, second = bar_rects(root)
    assert first.get("data-label") == "<SAW-1>"  # escaped in the markup, parsed back intact
    assert float(second.get("width")) / float(first.get("width")) == pytest.approx(0.25, abs=0.01)


def test_empty_charts_still_parse():
    root = parse(charts.ranked_chart("Alarms", "None.", [], x_label="Alarms"))
    assert bar_rects(root) == [] and "Nothing recorded yet" in ET.tostring(root, encoding="unicode")
    assert bar_rects(
        parse(charts.column_chart("x", "y", charts.bars([(1, 0)]), x_label="a", y_label="b"))
    )


@pytest.mark.parametrize(
    "value, ceiling",
    [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (101, 200), (Decimal("3.5"), 5)],
)
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(float(value)) == ceiling


def test_reports_page_draws_the_records(steward, engine):
    page = steward.get("/steward/reports").get_data(as_text=True)
    svgs = [parse(part.split("</figure>")[0]) for part in page.split('<figure class="card">')[1:]]
    assert len(svgs) == 6
    with reading(engine) as session:
        borrowed = series.most_borrowed(session, limit=10)
        weeks = series.loans_per_week(session, weeks=12)
    by_title = {svg.find(f"{SVG}title").text: svg for svg in svgs}
    drawn = [
        (r.get("data-label"), int(float(r.get("data-value"))))
        for r in bar_rects(by_title["Most borrowed tools"])
    ]
    assert drawn == borrowed and borrowed
    weekly = [int(float(r.get("data-value"))) for r in bar_rects(by_title["Loans per week"])]
    assert weekly == [count for _, count in weeks] and sum(weekly) > 0
