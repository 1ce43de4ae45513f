"""The steward's pages: what needs me now, and the working pages that resolve it.

Each feature has its own blueprint and module; this one holds the front page and members.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("steward", __name__, url_prefix="/steward")

# NOTE: imported after ``bp`` exists: these modules add their views to it.
from dashboard.steward import (  # noqa: E402, F401  # noqa: E402
    audit_pages,
    bookings_pages,
    front,
    kiosks,
    ledger_pages,
    maintenance_pages,
    members,
    reports_pages,
    tools,
)

# The working pages, each its own blueprint under /steward; create_app registers them all.
WORKING_PAGES = (
    tools.bp,
    maintenance_pages.bp,
    kiosks.bp,
    ledger_pages.bp,
    bookings_pages.bp,
    reports_pages.bp,
    audit_pages.bp,
)
