"""What the screen shows now, numbered, so a page can wait for the next change."""

from __future__ import annotations

import threading
from typing import Any


class ScreenBoard:
    """The latest screen view; every change gets the next version number."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._view: dict[str, Any] = {"state": "starting", "version": 0}
        self._closed = False

    @property
    def view(self) -> dict[str, Any]:
        """The current view (with its ``version``)."""
        with self._changed:
            return self._view

    def show(self, view: dict[str, Any]) -> None:
        """Make ``view`` current if it differs from the one shown (safe from any thread)."""
        with self._changed:
            if {**view, "version": self._view["version"]} == self._view:
                return
            self._view = {**view, "version": self._view["version"] + 1}
            self._changed.notify_all()

    def wait(self, after: int, timeout: float) -> dict[str, Any]:
        """Return the view once its version is above ``after``, or as it is after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._view["version"] > after, timeout)
            return self._view

    def close(self) -> None:
        """Release every waiting page (the kiosk is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
