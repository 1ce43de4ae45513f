"""The member's own pages at /me: phone first, plain words, only what is theirs.

Each feature is one module with its own blueprint (``me_<feature>``), registered in order by
:func:`register`, as the steward pages are.

- ``access``    who is signed in here, the guard of every page (and of the /api/v1/me API)
- ``signin``    sign in with member number and PIN (the tablet's throttles), sign out
- ``loans``     my loans with due dates and overdue marks, renew, my history
- ``hours``     my hours (balance, limit, statement) and giving hours to another member
- ``holds``     my holds: my place in each queue, a tool kept for me, placing and cancelling
- ``records``   my repair claims, my bookings and calendar link, my reminder choices
- ``market``    offers and requests, hours for services, my skills, the network's proposals
"""

from __future__ import annotations

from flask import Flask

from dashboard.me import holds, hours, loans, market, records, signin

FEATURES = (signin, loans, hours, holds, records, market)


def register(app: Flask) -> None:
    """Register every /me feature's blueprint."""
    for feature in FEATURES:
        app.register_blueprint(feature.bp)
