"""Extreme dates on every API date parameter: a 422 naming it, never a 500."""

from __future__ import annotations

from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.test_api import filled, operations, spec

api_world, bearer = fixtures.api_world, fixtures.bearer
EXTREME = {
    "date": ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"],
    "date-time": [
        "9999-12-31T23:59:59",
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
    ],
}


def date_parameters(document: dict) -> list[tuple[str, str, str, str]]:
    """Return (method, path, name, format) of every date or date-time query parameter."""
    found = []
    for method, path, described in operations(document):
        for parameter in described.get("parameters", []):
            schema = parameter.get("schema", {})
            options = [schema, *schema.get("anyOf", [])]
            for option in options:
                if option.get("format") in EXTREME:
                    found.append((method, path, parameter["name"], option["format"]))
    return found


def test_every_date_parameter_refuses_extreme_values(client, api_world, bearer):
    found = date_parameters(spec(client))
    assert {name for *_, name, _ in found} >= {"from", "to", "since", "until"}
    for method, path, name, kind in found:
        for value in EXTREME[kind]:
            query = {"from": "2026-11-23", "to": "2026-11-24", name: value}
            answer = client.open(filled(path), method=method, query_string=query, headers=bearer)
            assert answer.status_code == 422, (path, name, value, answer.status_code)
            assert answer.get_json()["field"] == name, (path, name, value)
