"""What the screen shows now, numbered, so a page can wait for the next change."""

from __future__ import annotations

import threading
from collections.abc import Mapping

View = dict[str, object]  # a JSON object for the page, with its "version"


class ScreenBoard:
    """The latest screen view; every change gets the next version number."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._version = 0
        self._view: View = {"state": "starting", "version": self._version}
        self._closed = False

    @property
    def view(self) -> View:
        """The current view (with its ``version``)."""
        with self._changed:
            return self._view

    def show(self, view: Mapping[str, object]) -> None:
        """Make ``view`` current if it differs from the one shown (safe from any thread)."""
        with self._changed:
            if {**view, "version": self._version} == self._view:
                return
            self._version += 1
            self._view = {**view, "version": self._version}
            self._changed.notify_all()

    def wait(self, after: int, timeout: float) -> View:
        """Return the view once its version is above ``after``, or as it is after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._version > after, timeout)
            return self._view

    def close(self) -> None:
        """Release every waiting page (the kiosk is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
