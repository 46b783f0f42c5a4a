"""Strict requests under /api/admin/ (SPEC §1, §5): a typo never widens what a request does.

Each operation accepts exactly the query parameters its OpenAPI entry lists. The allow-list is
read from the generated schema itself (once per process), so the documentation and the check
cannot drift apart: adding a filter to a view documents it and accepts it in one step.

- an unknown query parameter → 400 ``unknown_parameter`` naming it in ``errors[].field``;
- a parameter given twice → 400 ``validation_error``;
- a parameter the schema types as boolean takes exactly ``true`` or ``false``; one typed as an
  integer takes a whole number within the schema's minimum and maximum (the views check meaning);
- a non-empty body is parsed before the view runs, whatever the view reads, so a body that is
  not JSON is a 400 ``parse_error`` and nothing runs (``{bad json`` on cancel used to cancel);
- each value in a JSON body has the JSON type its schema states (a number for a text field, "5"
  for a whole number or "yes" for a boolean is a 400 ``validation_error`` naming the field, not
  converted by DRF into something the client did not send).

``RequestChecks`` is installed as the last permission class: DRF runs permission classes after
authentication (401) and the permission checks (403) and before the view, which is the order
SPEC §5 gives for refusals.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import MethodNotAllowed, NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission

from config.error_codes import CommonErrorCode
from config.errors import InvalidInput

if TYPE_CHECKING:  # DRF's settings import this module while rest_framework.views is loading
    from rest_framework.renderers import BaseRenderer
    from rest_framework.request import Request
    from rest_framework.views import APIView

_lock = threading.Lock()
_operations: dict[tuple[str, str], dict[str, dict[str, Any]]] | None = None
_bodies: dict[tuple[str, str], dict[str, Any]] = {}  # (path, METHOD) → its JSON body's schema
_components: dict[str, dict[str, Any]] = {}
_ROUTE_PARAM = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def _schema_path(route: str) -> str:
    """``api/admin/orders/<id:order_id>`` → ``/api/admin/orders/{order_id}`` (pk shows as id)."""
    def name(match: re.Match[str]) -> str:
        value = match.group(1)
        return "{id}" if value == "pk" else "{" + value + "}"

    return "/" + _ROUTE_PARAM.sub(name, route)


def operations() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(path, METHOD) → {query parameter name: its schema} for every documented operation."""
    global _operations
    if _operations is None:
        with _lock:
            if _operations is None:
                from drf_spectacular.generators import SchemaGenerator

                schema = SchemaGenerator().get_schema(request=None, public=True)
                table: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
                bodies: dict[tuple[str, str], dict[str, Any]] = {}
                for path, ops in schema["paths"].items():
                    for method, op in ops.items():
                        table[(path, method.upper())] = {
                            p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p.get("in") == "query"}
                        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                        if body:
                            bodies[(path, method.upper())] = body
                _bodies.update(bodies)
                _components.update(schema.get("components", {}).get("schemas", {}))
                _operations = table
    return _operations


def _operation_key(request: Request) -> tuple[str, str] | None:
    match = getattr(request._request, "resolver_match", None) if hasattr(request, "_request") else None
    if match is None or not match.route:
        return None
    return _schema_path(match.route), "GET" if request.method == "HEAD" else request.method or ""


def allowed_query_params(request: Request) -> dict[str, dict[str, Any]] | None:
    match = getattr(request._request, "resolver_match", None) if hasattr(request, "_request") else None
    if match is None or not match.route:
        return None
    path = _schema_path(match.route)
    method = "GET" if request.method == "HEAD" else request.method or ""
    table = operations()
    if (path, method) in table:
        return table[(path, method)]
    if any(p == path for p, _ in table):
        return {}  # a method the schema does not document (OPTIONS): no parameters
    return None  # not an API operation (the schema views themselves)


def _check_value(name: str, value: str, schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if kind == "boolean" and value not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false, not {value!r}.", field=name)
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,19}", value):
            raise InvalidInput(f"{name} must be a whole number, not {value!r}.", field=name)
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and int(value) < low:
            raise InvalidInput(f"{name} must be at least {low}, not {value}.", field=name)
        if high is not None and int(value) > high:
            raise InvalidInput(f"{name} must be at most {high}, not {value}.", field=name)
    if "enum" in schema and value not in [str(v) for v in schema["enum"]]:
        raise InvalidInput(f"{name} must be one of {', '.join(str(v) for v in schema['enum'])}.", field=name)


def check_query(request: Request) -> None:
    allowed = allowed_query_params(request)
    if allowed is None:
        return
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        errors = [{"field": name, "code": CommonErrorCode.UNKNOWN_PARAMETER, "message": f"Unknown query parameter {name!r}."}
                  for name in unknown]
        accepted = ", ".join(sorted(allowed)) or "none"
        raise InvalidInput(f"Unknown query parameter {unknown[0]!r}; this operation accepts: {accepted}.",
                           code=CommonErrorCode.UNKNOWN_PARAMETER, errors=errors)
    for name, values in request.query_params.lists():
        if len(values) > 1:
            raise InvalidInput(f"Query parameter {name!r} is given {len(values)} times; give it once.", field=name)
        _check_value(name, values[0], allowed[name])


def has_body(request: Request) -> bool:
    meta = request._request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > 0 or "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()


def check_body(request: Request) -> None:
    """Parse a non-empty body now (ParseError → 400 ``parse_error``, 415 for a type no parser takes).

    A body sent without a Content-Type (or as application/octet-stream, what clients send when
    nobody said) is read as JSON, the only format the API speaks.
    """
    if not has_body(request):
        return
    meta = request._request.META
    if (meta.get("CONTENT_TYPE") or meta.get("HTTP_CONTENT_TYPE") or "application/octet-stream") \
            .split(";")[0].strip().lower() == "application/octet-stream":
        meta["CONTENT_TYPE"] = "application/json"
    data = request.data
    key = _operation_key(request)
    if type(data) is dict and key is not None:  # a JSON object (a form's QueryDict is not one)
        operations()
        errors: list[dict[str, str]] = []
        if key in _bodies:
            _type_errors(data, _bodies[key], "", errors)
        if errors:
            first = errors[0]
            # DRF keeps the parsed body in _full_data; request.data answers it from now on.
            request._full_data = WrongTypedBody(data, InvalidInput(  # type: ignore[attr-defined]
                f"{first['field']}: {first['message']}" if first["field"] else first["message"], errors=errors))


class WrongTypedBody(dict[str, Any]):
    """A JSON object body holding a value of another JSON type than its schema states: reading any
    value raises the 400. The view reads its body after it has looked up the ids in its path, so
    an unknown order is still a 404 first (SPEC §5: path ids, then the request's shape)."""

    def __init__(self, data: dict[str, Any], error: InvalidInput) -> None:
        super().__init__(data)
        self.error = error

    def __getitem__(self, key: str) -> Any:
        raise self.error

    def get(self, key: str, default: Any = None) -> Any:
        raise self.error


_JSON_KINDS: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                            "boolean": (bool,), "array": (list,), "object": (dict,)}
_EXPECTED = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
             "array": "a list", "object": "an object"}
_GIVEN = {str: "a string", bool: "true or false", int: "a number", float: "a number", list: "a list",
          dict: "an object"}


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its $ref (and a lone allOf) followed; siblings (nullable, readOnly) kept."""
    for _ in range(20):
        if "$ref" in schema:
            target = _components.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        elif len(schema.get("allOf", [])) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            break
    return schema


def _type_errors(value: Any, schema: dict[str, Any], path: str, errors: list[dict[str, str]]) -> None:
    """Each value whose JSON type is not the one the schema states: DRF's fields would convert it (a
    number given for a text becomes that text, "5" a whole number, "yes" true), so a client's slip
    would be read as something it did not send. Null, unions and free-form values are the
    serializers' to judge."""
    schema = _resolved(schema)
    kind = schema.get("type")
    if value is None or len(errors) >= 20 or "anyOf" in schema or "oneOf" in schema or kind not in _JSON_KINDS:
        return
    ok = isinstance(value, bool) if kind == "boolean" else (
        isinstance(value, _JSON_KINDS[kind]) and not isinstance(value, bool))
    if not ok:
        errors.append({"field": path, "code": CommonErrorCode.INVALID,
                       "message": f"Expected {_EXPECTED[kind]}, not {_GIVEN.get(type(value), 'that')}."})
    elif kind == "object":
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                _type_errors(item, properties[name], f"{path}.{name}" if path else str(name), errors)
    elif kind == "array" and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _type_errors(item, schema["items"], f"{path}.{index}" if path else str(index), errors)


def handles(view: APIView | type[APIView], method: str) -> bool:
    """Whether the view answers this method (else DRF answers 405 ``method_not_allowed``)."""
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


class RequestChecks(BasePermission):
    """Not a permission: the strict query and body checks, run right after the permission checks.

    A method the view does not answer skips them: its answer is 405, whatever the query or body."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not handles(view, request.method or ""):
            return True
        check_query(request)
        check_body(request)
        return True


class ContentNegotiation(DefaultContentNegotiation):
    """`?format=` naming no renderer of the view is a 406 `not_acceptable` (DRF answers 404, which
    reads as "no such order" to a client). A method the view does not answer is a 405 whatever
    the format asked for (DRF negotiates before it looks at the method)."""

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        try:
            chosen: tuple[BaseRenderer, str] = super().select_renderer(request, renderers, format_suffix)
            return chosen
        except NotAcceptable:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if view is not None and not handles(view, request.method or ""):
                raise MethodNotAllowed(request.method or "") from None
            raise

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        renderers = [r for r in renderers if r.format == format]
        if not renderers:
            raise NotAcceptable(f"Unknown format {format!r}.")
        return renderers
