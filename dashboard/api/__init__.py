"""The JSON API at /api/v1: the steward dashboard's data for scripts, described by OpenAPI.

Each feature module registers its operations on the registry in :mod:`.blueprint`; importing
them here is what puts their routes on the blueprint.
"""

from . import (  # noqa: F401
    bookings,
    claims,
    docs,
    holds,
    imports,
    kiosks,
    ledger,
    letters,
    maintenance,
    market,
    me,
    members,
    reports,
    sites,
    tokens,
    tools,
)
from .blueprint import api, bp

__all__ = ["api", "bp"]
