"""Describe JSON operations once, in code, and build their OpenAPI 3.1 document from that.

An :class:`OpenApi` registry wraps a blueprint. Its :meth:`~OpenApi.operation` decorator adds
the Flask route, parses the query string and the JSON body into pydantic models, turns the view's
pydantic result into JSON, and records all of it, so the document cannot drift from the routes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.routing import parse_converter_args

# A documented view: path arguments (and query=, body= models) in, a pydantic model out.
View = TypeVar("View", bound=Callable[..., BaseModel])
# A Flask view as the guard sees it (dashboard.auth.steward_required fits).
Guard = Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]
REF_TEMPLATE = "#/components/schemas/{model}"
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
REASONS = {
    200: "OK",
    201: "Created",
    400: "The CSRF token of a cookie-signed-in write is missing or wrong.",
    401: "No valid session or bearer token.",
    403: "Signed in, but not an active steward (or the rule needs another role).",
    404: "No such record (the error names the id).",
    409: "The record is not in a state that allows this (already decided, already closed).",
    422: "A malformed or refused value; `field` names it.",
    429: "Too many failures from this address, tablet or account; wait `Retry-After` seconds.",
}


class InvalidRequest(Exception):
    """The query string or JSON body does not fit its model; ``errors`` are pydantic's."""

    def __init__(self, errors: list[dict[str, Any]], *, part: str) -> None:
        super().__init__(f"Invalid {part}")
        self.errors, self.part = errors, part


@dataclass(frozen=True)
class Operation:
    """One documented route: what it takes, what it answers, and who may call it."""

    method: str
    rule: str
    view: Callable[..., BaseModel]
    response: type[BaseModel]
    status: int
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    refusals: tuple[int, ...]
    public: bool
    tag: str

    @property
    def summary(self) -> str:
        return _doc(self.view).split("\n\n")[0].strip()

    @property
    def description(self) -> str:
        parts = _doc(self.view).split("\n\n")[1:]
        return "\n\n".join(" ".join(p.split()) for p in parts)


@dataclass
class OpenApi:
    """The operations of one blueprint and the document describing them."""

    blueprint: Blueprint
    title: str
    version: str
    description: str
    guard: Guard
    error_model: type[BaseModel]
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        rule: str,
        *,
        response: type[BaseModel],
        tag: str,
        status: int = 200,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        refusals: tuple[int, ...] = (),
        public: bool = False,
        guard: Guard | None = None,
    ) -> Callable[[View], View]:
        """Route ``method rule`` to the decorated view and record it for the document.

        The view receives path arguments, plus ``query=`` and ``body=`` models when declared,
        and returns a ``response`` model, sent as JSON with ``status``. Unless ``public``, the
        view is wrapped in ``guard``, else the registry's guard.
        """

        def register(view: View) -> View:
            recorded = Operation(
                method.upper(), rule, view, response, status, query, body, refusals, public, tag
            )
            self.operations.append(recorded)
            wrapped: Callable[..., ResponseReturnValue] = _parsing(recorded)
            wrapped = wrapped if public else (guard or self.guard)(wrapped)
            self.blueprint.add_url_rule(rule, view.__name__, wrapped, methods=[recorded.method])
            return view

        return register

    def document(self) -> dict[str, Any]:
        """Return the OpenAPI 3.1 document of every recorded operation."""
        schemas = self._schemas()
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path = self.path_of(op)
            paths.setdefault(path, {})[op.method.lower()] = self._describe(op, schemas)
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version, "description": self.description},
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas.definitions,
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A steward's API token (`commonshed` CLI issues them).",
                    }
                },
            },
        }

    def path_of(self, op: Operation) -> str:
        """Return an operation's full path in OpenAPI form: ``/api/v1/members/{member_id}``."""
        prefix = (self.blueprint.url_prefix or "").rstrip("/")
        return prefix + RULE_ARGUMENT.sub(lambda m: "{" + m["name"] + "}", op.rule)

    def _schemas(self) -> _Schemas:
        models = {(op.body, "validation") for op in self.operations if op.body}
        models |= {(op.response, "serialization") for op in self.operations}
        models.add((self.error_model, "serialization"))
        ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
        refs, defs = models_json_schema(ordered, ref_template=REF_TEMPLATE)
        return _Schemas(refs, defs.get("$defs", {}))

    def _describe(self, op: Operation, schemas: _Schemas) -> dict[str, Any]:
        described: dict[str, Any] = {
            "operationId": op.view.__name__,
            "tags": [op.tag],
            "summary": op.summary,
            "description": op.description,
            "parameters": _path_parameters(op.rule) + _query_parameters(op.query),
            "responses": self._responses(op, schemas),
            "security": [] if op.public else [{"bearerAuth": []}],
        }
        if op.body is not None:
            described["requestBody"] = {
                "required": _body_required(op.body),
                "content": {"application/json": {"schema": schemas.ref(op.body, "validation")}},
            }
        return described

    def _responses(self, op: Operation, schemas: _Schemas) -> dict[str, Any]:
        error = {"application/json": {"schema": schemas.ref(self.error_model, "serialization")}}
        answers = {
            str(op.status): {
                "description": REASONS.get(op.status, "OK"),
                "content": {
                    "application/json": {"schema": schemas.ref(op.response, "serialization")}
                },
            }
        }
        for code in _refusals_of(op):
            answers[str(code)] = {"description": REASONS[code], "content": error}
        return answers


@dataclass(frozen=True)
class _Schemas:
    refs: dict[tuple[type[BaseModel], str], dict[str, Any]]
    definitions: dict[str, Any]

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        return self.refs[(model, mode)]


def _refusals_of(op: Operation) -> list[int]:
    """Return the refusal statuses an operation can answer with, in order."""
    codes = set(op.refusals)
    if not op.public:
        codes |= {401, 403}
    if op.method not in ("GET", "HEAD") and not op.public:
        codes.add(400)
    if RULE_ARGUMENT.search(op.rule) or op.body:
        codes.add(404)  # the path, or the body (a member number, a tool code), names a record
    if op.method not in ("GET", "HEAD") and not op.public:
        codes.add(409)  # a write may meet a state that refuses it (already decided, taken)
    if op.query or op.body or op.method not in ("GET", "HEAD"):
        codes.add(422)  # a malformed value, or a rule of the commons that refuses this write
    return sorted(codes)


def _body_required(model: type[BaseModel]) -> bool:
    """Tell whether a body must be sent: only if a field is required (no body counts as ``{}``)."""
    return any(field.is_required() for field in model.model_fields.values())


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    """Describe the rule's ``<converter(args):name>`` arguments as path parameters."""
    return [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": _converter_schema(match["converter"], match["args"]),
        }
        for match in RULE_ARGUMENT.finditer(rule)
    ]


def _converter_schema(converter: str | None, args: str | None) -> dict[str, Any]:
    """Return the JSON schema of values a Werkzeug converter accepts (int and string)."""
    _, options = parse_converter_args(args) if args else ((), {})
    if converter == "int":
        schema: dict[str, Any] = {"type": "integer", "minimum": options.get("min", 0)}
        return schema | ({"maximum": options["max"]} if "max" in options else {})
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """Describe a flat query model's fields as query parameters (no nulls in a query string)."""
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.get("description", ""),
            "schema": _without_null(prop),
        }
        for name, prop in schema["properties"].items()
    ]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` without its ``null`` branch: an absent parameter stands for None."""
    branches: list[dict[str, Any]] = [b for b in schema.get("anyOf", ()) if b.get("type") != "null"]
    if len(branches) != 1:
        return schema
    kept = {k: v for k, v in schema.items() if k not in ("anyOf", "default", "description")}
    return branches[0] | kept


def _parsing(op: Operation) -> Callable[..., Response]:
    """Wrap ``op.view`` to parse its query and body models and to send its result as JSON."""

    @functools.wraps(op.view)
    def parse_and_answer(**path: Any) -> Response:
        models: dict[str, BaseModel] = {}
        if op.query is not None:
            models["query"] = _validated(op.query, request.args.to_dict(), "query string")
        if op.body is not None:
            models["body"] = _validated(op.body, _json_body(), "body")
        result: BaseModel = op.view(**path, **models)
        return current_app.response_class(
            result.model_dump_json(by_alias=True) + "\n",
            status=op.status,
            mimetype="application/json",
        )

    return parse_and_answer


def _json_body() -> Any:
    """Return the request's JSON (an empty body counts as ``{}``; broken JSON as None)."""
    if not request.get_data(cache=True):
        return {}
    return request.get_json(force=True, silent=True)


def _validated(model: type[BaseModel], data: Any, part: str) -> BaseModel:
    """Return ``data`` as ``model``, or raise :class:`InvalidRequest` naming the ``part``."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        raise InvalidRequest(
            invalid.errors(include_url=False, include_input=False), part=part
        ) from None


def _doc(view: Callable[..., object]) -> str:
    return (view.__doc__ or view.__name__).strip()
