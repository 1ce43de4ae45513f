"""The steward's pages: what needs me now, and the working pages that resolve it.

Each feature is one module with its own blueprint under /steward (``steward_<feature>``) and a
``NAV`` naming which of its pages the nav links to. :func:`register` puts every feature on the
app, and the nav is read from what it registered, in that order.

- ``front``        what needs a steward now, kept current without a reload
- ``tools``        the tool board, each tool's tickets and history
- ``maintenance``  repair claims to decide, live tickets, maintenance due, plans and services
- ``members``      find members; suspend and reinstate them; their cards and trainings
- ``loans``        every open loan, the overdue ones first
- ``holds``        every tool's hold queue (reorder, cancel) and the borrowing policy
- ``kiosks``       the kiosk fleet's health, door alarms, refused cards and dead letters
- ``sites``        the network's sites: who may borrow at each, bridge logins, loans not allowed
- ``bookings``     the machines' bookings, which a steward may cancel with a reason; the
                   machines: their rules, opening hours, closed days, pausing
- ``imports``      members and tools from CSV: checked row by row, then imported whole
- ``ledger``       balances, the community pool, statements as CSV, and the corrections:
                   reversals, credit limits, trusted fixers, transfers between members
- ``market``       members' posts to moderate, categories, passed spends to pay, fixers to ask
- ``reports``      charts of loans, repairs, credited hours and door alarms
- ``audit``        the audit log, for admins
- ``account``      where you are signed in, signing out everywhere, your API tokens
- ``common``       what the views share: form values, going back, nav links
- ``typed_forms``  a refused form shown again as typed, with the field at fault named
"""

from __future__ import annotations

from flask import Flask, current_app

from dashboard.steward import (
    account,
    audit,
    bookings,
    front,
    holds,
    imports,
    kiosks,
    ledger,
    loans,
    maintenance,
    market,
    members,
    reports,
    sites,
    tools,
)
from dashboard.steward.common import NavLink, ago

# In the order of the nav.
FEATURES = (
    front,
    tools,
    maintenance,
    members,
    loans,
    holds,
    kiosks,
    sites,
    bookings,
    imports,
    ledger,
    market,
    reports,
    audit,
    account,
)
NAV_EXTENSION = "commonshed.steward_nav"


def register(app: Flask) -> None:
    """Register every steward feature's blueprint, and the nav that links to their pages."""
    for feature in FEATURES:
        app.register_blueprint(feature.bp)
    app.extensions[NAV_EXTENSION] = tuple(link for feature in FEATURES for link in feature.NAV)
    app.add_template_global(nav_links, "steward_nav")
    app.add_template_filter(ago)


def nav_links() -> tuple[NavLink, ...]:
    """Return the current app's steward nav: the pages of every registered feature, in order."""
    nav: tuple[NavLink, ...] = current_app.extensions[NAV_EXTENSION]
    return nav
