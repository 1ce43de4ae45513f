"""Imports: members and tools from a CSV file, checked first, then written all or nothing.

Uploading checks every row (a dry run) and shows each refused row's line, field and fault; a
file with no refusals can then be imported. The import runs the same checks again as it
writes, in one transaction: if anything changed in between and a row is refused, nothing is
written. The hub's ``csv_io.import_csv`` checks the role and audits the import.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import transaction
from dashboard.steward.common import NavLink
from hub.bulk import csv_io
from hub.errors import DomainError, InvalidInput

bp = Blueprint("steward_imports", __name__, url_prefix="/steward")
NAV = (NavLink("steward_imports.imports", "Imports"),)

# NOTE: the confirming form carries the file back as a form field, and Werkzeug keeps at most
# 500 kB of form fields in memory; bigger files go through `commonshed hub import`.
MAX_CSV_BYTES = 400_000
KINDS = {
    "members": (csv_io.MEMBER_COLUMNS, csv_io.MEMBER_REQUIRED),
    "tools": (csv_io.TOOL_COLUMNS, csv_io.TOOL_REQUIRED),
}


class _NothingWritten(Exception):
    """Raised inside the transaction to roll back an import a row refused."""

    def __init__(self, report: csv_io.ImportReport) -> None:
        self.report = report


@bp.get("/imports")
@steward_required
def imports() -> str:
    """Show the upload form of each kind, with the columns its file needs."""
    return render_template("steward/imports.html", kinds=KINDS, max_kb=MAX_CSV_BYTES // 1000)


@bp.post("/imports/<any(members, tools):kind>/check")
@steward_required
def check(kind: str) -> ResponseReturnValue:
    """Check an uploaded file row by row, writing nothing; show what would be refused."""
    try:
        text = _uploaded_text()
        with transaction() as db:
            report = csv_io.import_csv(db, acting_member(), kind, text, dry_run=True)
    except DomainError as refused:
        return _imports_page(kind, refused=refused), 422
    return _imports_page(kind, report=report, text=text), (200 if report.ok else 422)


@bp.post("/imports/<any(members, tools):kind>")
@steward_required
def apply(kind: str) -> ResponseReturnValue:
    """Import a checked file: every row, or none if any row is refused now."""
    text = request.form.get("csv", "")
    try:
        with transaction() as db:
            report = csv_io.import_csv(db, acting_member(), kind, text)
            if not report.ok:
                raise _NothingWritten(report)  # roll back, however far the import got
    except _NothingWritten as nothing:
        return _imports_page(kind, report=nothing.report, text=text), 422
    except DomainError as refused:
        return _imports_page(kind, refused=refused), refused_status(refused)
    flash(f"{report.written} {kind} imported.")
    return redirect(url_for("steward_imports.imports"))


def refused_status(refused: DomainError) -> int:
    """Return 409 for a file imported already, 422 for any other refusal."""
    return 409 if refused.field == "csv" else 422


def _uploaded_text() -> str:
    """Return the uploaded file as text, refusing no file, a big one or one not in UTF-8."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Choose a CSV file to check.", field="file")
    data: bytes = upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(
            f"The file is over {MAX_CSV_BYTES // 1000} kB; import it with "
            "`commonshed hub import` on the hub instead.",
            field="file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {bad.start + 1}); save it as CSV UTF-8.",
            field="file",
        ) from None


def _imports_page(
    kind: str,
    *,
    report: csv_io.ImportReport | None = None,
    text: str = "",
    refused: DomainError | None = None,
) -> str:
    """Render the imports page with one kind's check (or import) results."""
    return render_template(
        "steward/imports.html",
        kinds=KINDS,
        max_kb=MAX_CSV_BYTES // 1000,
        checked=kind,
        report=report,
        text=text,
        error=refused,
    )
