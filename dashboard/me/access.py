"""Who is signed in on the member's pages, and the guards that let only members through.

A member signs in at /me/signin and gets the same kind of session the steward sign-in starts
(kept on the hub: revocable, ending when idle); a steward already signed in may use /me too.
The API's /me operations take that session or an API token of any scope (``read`` for GETs
only); every answer is about the member the session or token speaks for, never one named in
the request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec

from flask import abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import SAFE_METHODS, current_member, token_scope
from hub.infra.clock import as_utc, utcnow
from hub.members import tokens
from hub.members.roster import Member

P = ParamSpec("P")


def now() -> datetime:
    """Return the time the member's pages work at (tests set ME_CLOCK to control it)."""
    return as_utc(current_app.config.get("ME_CLOCK", utcnow)())


def me_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Send a visitor who has not signed in to the member sign-in page."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_member() is None:
            return redirect(url_for("me_signin.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return guarded


def member_api_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Let through any signed-in member (session or token); a read-only token only reads."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_member() is None:
            abort(401, "Sign in or send 'Authorization: Bearer <token>'.")
        if token_scope() == tokens.TokenScope.READ and request.method not in SAFE_METHODS:
            abort(403, "This API token is read-only: it may not change anything.")
        return view(*args, **kwargs)

    return guarded


def me() -> Member:
    """Return the signed-in member inside a view a guard has let through."""
    member = current_member()
    if member is None:  # a view without a guard: a programming error, not a refusal
        raise RuntimeError("me() needs a view behind me_required or member_api_required.")
    return member
