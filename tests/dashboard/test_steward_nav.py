"""The steward package: each feature its own blueprint, and the nav read from what is registered."""

from __future__ import annotations

import pytest

from dashboard import create_app, database, steward


@pytest.fixture
def bare_app(tmp_path):
    """Return the app on an empty data dir: enough to look at its routes, no pages served."""
    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True})
    yield app
    database.dispose(app)


def feature_name(feature) -> str:
    return feature.__name__.rsplit(".", 1)[1]


def test_each_feature_registers_its_own_blueprint_named_after_it(bare_app):
    for feature in steward.FEATURES:
        assert feature.bp.name == f"steward_{feature_name(feature)}"
        assert bare_app.blueprints[feature.bp.name] is feature.bp
        assert feature.bp.url_prefix == "/steward"
    steward_blueprints = {name for name in bare_app.blueprints if name.startswith("steward")}
    assert steward_blueprints == {feature.bp.name for feature in steward.FEATURES}


def test_the_nav_is_every_features_pages_in_the_order_registered(bare_app):
    with bare_app.app_context():
        nav = steward.nav_links()
    assert nav == tuple(link for feature in steward.FEATURES for link in feature.NAV)
    assert [link.label for link in nav] == [
        "Needs me",
        "Tools",
        "Maintenance",
        "Members",
        "Loans",
        "Holds",
        "Kiosks",
        "Sites",
        "Bookings",
        "Machines",
        "Imports",
        "Ledger",
        "Market",
        "Reports",
        "Audit",
        "Account",
    ]
    assert [link.label for link in nav if link.admin_only] == ["Audit"]


def test_each_nav_link_is_a_page_of_its_own_feature(bare_app):
    rules = {rule.endpoint: rule for rule in bare_app.url_map.iter_rules()}
    for feature in steward.FEATURES:
        assert feature.NAV, f"{feature_name(feature)} has no page in the nav"
        for link in feature.NAV:
            rule = rules[link.endpoint]
            assert link.endpoint.startswith(f"{feature.bp.name}.")
            assert "GET" in rule.methods and not rule.arguments, link
