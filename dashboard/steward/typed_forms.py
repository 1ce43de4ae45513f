"""A refused form comes back as it was typed, with the field at fault named.

A view catches the hub's refusal (:class:`hub.errors.DomainError`) outside its transaction, so
nothing was written, and renders its page again with a :class:`FormRefusal`: which form, the
field and the message, and what was typed. Templates show it with ``steward/_typed.html``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import request
from flask.typing import ResponseReturnValue

from dashboard.errors import status_of
from hub.errors import DomainError, InvalidInput


@dataclasses.dataclass(frozen=True)
class FormRefusal:
    """Why a form was refused, and what it held."""

    form: str
    message: str
    field: str | None
    typed: dict[str, str] = dataclasses.field(default_factory=dict)

    def value(self, form: str, name: str, default: object = "") -> object:
        """Return what was typed into ``name`` if this refusal is of ``form``, else ``default``."""
        return self.typed.get(name, "") if form == self.form else default


def refused_form(
    render: Callable[[FormRefusal], str], form: str, error: DomainError
) -> ResponseReturnValue:
    """Render the page again for ``error``, keeping what was typed into ``form``, with the
    refusal's status (422 for a bad value, 409 for a conflict, ...)."""
    typed = {name: value for name, value in request.form.items() if name != "csrf_token"}
    return render(FormRefusal(form, error.message, error.field, typed)), status_of(type(error))


def form_whole_number(name: str) -> int | None:
    """Return a form field as a whole number (None when blank), or refuse it by name."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{name} must be a whole number, not {text!r}.", field=name)
    return int(text)
