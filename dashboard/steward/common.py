"""What every steward view shares: forms, going back, "ago", nav links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from hub.errors import InvalidInput
from hub.infra.clock import as_utc, utcnow


@dataclass(frozen=True)
class NavLink:
    """A steward page the nav links to: its endpoint, its label, and whether only admins see it."""

    endpoint: str
    label: str
    admin_only: bool = False


def form_text(name: str) -> str:
    """Return a form field's text, stripped ('' when missing)."""
    return request.form.get(name, "").strip()


def form_flag(name: str) -> bool:
    """Tell whether a checkbox was ticked; refuse anything but the values a checkbox sends."""
    value = request.form.get(name, "")
    if value not in ("", "on", "1", "true", "yes"):
        raise InvalidInput(f"{name} must be ticked or not, not {value!r}.", field=name)
    return value != ""


def back(default_endpoint: str, **values: Any) -> Response:
    """Redirect to the steward page the form came from (its ``next`` field), or to a default."""
    target = request.form.get("next", "")
    if target.startswith("/steward/") and "//" not in target and "\\" not in target:
        return redirect(target)
    return redirect(url_for(default_endpoint, **values))


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago ``moment`` was, coarsely ("just now", "4 min ago", "3 days ago")."""
    if moment is None:
        return "never"
    seconds = int(((now or utcnow()) - as_utc(moment)).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            count = seconds // size
            plural = "s" if unit == "day" and count != 1 else ""
            return f"{count} {unit}{plural} ago"
    return "just now"
