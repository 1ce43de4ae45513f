"""The API describing itself: the OpenAPI document and a plain page listing the operations."""

from __future__ import annotations

from flask import Response, jsonify, render_template

from .blueprint import api, bp


@bp.get("/openapi.json")
def describe() -> Response:
    """Send the OpenAPI 3.1 document, built from the registered operations."""
    return jsonify(api.document())


@bp.get("/docs")
def show_docs() -> str:
    """Show every operation of the document: method, path, who may call it, what it does."""
    document = api.document()
    operations = [
        {"path": path, "method": method.upper(), **described}
        for path, methods in document["paths"].items()
        for method, described in methods.items()
    ]
    return render_template("api/docs.html", document=document, operations=operations)
