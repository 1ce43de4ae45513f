"""CSV imports of members and tools for scripts: checked row by row, written all or nothing.

The registry describes JSON bodies only, so the file travels as a JSON string: ``{"csv": "..."}``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from dashboard.auth import acting_member
from dashboard.database import transaction
from dashboard.openapi import InvalidRequest
from hub.bulk import csv_io

from .blueprint import api
from .schemas import NO_NUL, Body, Query

MAX_CSV_CHARS = 5_000_000


class CsvFile(Body):
    csv: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_CSV_CHARS, pattern=NO_NUL)
    ] = Field(description="The whole file as text: a header row, then one row per record.")


class ImportOptions(Query):
    dry_run: bool = Field(False, description="Check every row and write nothing.")


class RowRefusal(BaseModel):
    line: int = Field(description="The file's line number (the header is line 1).")
    field: str
    message: str


class ImportResult(BaseModel):
    kind: str
    dry_run: bool
    rows: int
    written: int = Field(description="Rows written: all of them, or 0 on a dry run.")
    refusals: list[RowRefusal] = Field(description="Every refused row; only on a dry run.")


@api.operation(
    "POST",
    "/imports/members",
    query=ImportOptions,
    body=CsvFile,
    response=ImportResult,
    refusals=(409,),
    tag="imports",
)
def import_members(query: ImportOptions, body: CsvFile) -> ImportResult:
    """Import members (with cards) from CSV: number, name, email, phone, roles, cards.

    With `dry_run=true` every row is checked, nothing is written, and the answer lists each
    refused row. Without it, the file is written whole, or, if any row is refused, not at all:
    422 with `errors` naming each row as `csv.<line>.<column>`. A file imported before is
    refused (409), so a repeated request writes nothing twice. Roles granted follow the ranks.
    Stewards only; audited.
    """
    return _import("members", query, body)


@api.operation(
    "POST",
    "/imports/tools",
    query=ImportOptions,
    body=CsvFile,
    response=ImportResult,
    refusals=(409,),
    tag="imports",
)
def import_tools(query: ImportOptions, body: CsvFile) -> ImportResult:
    """Import tools (with home lockers) from CSV: code, name, category, kiosk, slot, training,
    loan_days.

    Dry run, all-or-nothing writing, per-row 422 and 409 for a file imported before: as for
    members. Stewards only; audited.
    """
    return _import("tools", query, body)


def _import(kind: str, query: ImportOptions, body: CsvFile) -> ImportResult:
    with transaction() as db:
        report = csv_io.import_csv(db, acting_member(), kind, body.csv, dry_run=query.dry_run)
        if not report.ok and not query.dry_run:
            raise _refused_rows(report)  # rolls the transaction back, whatever was done
    return ImportResult(
        kind=kind,
        dry_run=query.dry_run,
        rows=report.rows,
        written=report.written,
        refusals=[
            RowRefusal(line=r.line, field=r.field, message=r.message) for r in report.refusals
        ],
    )


def _refused_rows(report: csv_io.ImportReport) -> InvalidRequest:
    """Return the 422 that names each refused row and column."""
    errors = [
        {"loc": ("csv", refusal.line, refusal.field), "msg": refusal.message}
        for refusal in report.refusals
    ]
    return InvalidRequest(errors, part="body")
