"""OpenAPI helpers: the one error shape and per-endpoint error codes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class FieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="Dotted path of the invalid field, e.g. items.0.quantity")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. product_out_of_stock")
    message = serializers.CharField(help_text="What went wrong, for people")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "errors" is added here: as a class attribute it would hide Serializer.errors.
        fields = super().get_fields()
        fields["errors"] = FieldErrorSerializer(many=True)
        return fields


_GENERIC = {
    400: ["validation_error", "parse_error"],
    401: ["not_authenticated"],
    403: ["permission_denied"],
    404: ["not_found"],
    409: [],
    422: ["idempotency_key_reused"],
    429: ["throttled"],
}
_TITLES = {400: "Invalid input", 401: "Not authenticated", 403: "Not allowed", 404: "Not found",
           409: "The current state forbids it", 422: "Idempotency key reused", 429: "Throttled"}


def error_responses(*statuses: int, codes: dict[int, list[str]] | None = None) -> dict[int, OpenApiResponse]:
    """Responses for the given statuses, each documenting the codes it may carry."""
    codes = codes or {}
    wanted = set(statuses) | set(codes) | {401, 403}
    out: dict[int, OpenApiResponse] = {}
    for st in sorted(wanted):
        names = list(dict.fromkeys([*codes.get(st, []), *_GENERIC.get(st, [])]))
        desc = f"{_TITLES.get(st, 'Error')}. Codes: " + ", ".join(f"`{c}`" for c in names) if names else _TITLES.get(st, "")
        out[st] = OpenApiResponse(ErrorSerializer, description=desc)
    return out


class AutoSchema(BaseAutoSchema):
    pass


_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# Statuses every operation can answer, whatever it does (SPEC §1), with the codes they carry.
_COMMON = {
    400: "Invalid input. Codes: `unknown_parameter`, `validation_error`, `parse_error`",
    401: "Not authenticated. Code: `not_authenticated`",
    403: "Not allowed. Code: `permission_denied`",
    406: "The Accept header asks for a format the operation cannot answer. Code: `not_acceptable`",
}
_WITH_BODY = {
    413: "The request body is too large. Code: `request_too_large`",
    415: "The body is not JSON. Code: `unsupported_media_type`",
}
_WRITE = {409: "The current state forbids it. Codes include `idempotency_key_in_use`"}
_WITH_ID = {404: "Not found. Code: `not_found`"}
_PAGED = {404: "Not found: a page past the end. Code: `not_found`"}


def document_every_status(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: each operation lists every status it can answer (SPEC §1), so a
    schema-driven client or fuzzer finds no undocumented one. Views document their own codes;
    this adds the ones every operation shares (unknown parameters, bad JSON, content types…)."""
    for path, operations in result.get("paths", {}).items():
        login = path.rstrip("/").endswith("/login")
        for method, operation in operations.items():
            extra: dict[int, str] = dict(_COMMON)
            if login:
                extra.pop(403)
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "{" in path:
                extra.update(_WITH_ID)
            elif "page" in query:
                extra.update(_PAGED)
            if method != "get":
                extra.update(_WITH_BODY)
                if not login:
                    extra.update(_WRITE)
            responses = operation.setdefault("responses", {})
            for status_code, description in extra.items():
                entry = responses.setdefault(str(status_code), {"description": description})
                entry.setdefault("content", _ERROR_REF)
            if method == "get" and "format" not in query:
                operation.setdefault("parameters", []).append({
                    "in": "query", "name": "format", "required": False, "schema": {"type": "string", "enum": ["json"]},
                    "description": "Response format (the Accept header does the same)"})
            operation["responses"] = dict(sorted(responses.items()))
    return result


def add_idempotency_header(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every write under /api/admin/ accepts Idempotency-Key (SPEC §11)."""
    for path, operations in result.get("paths", {}).items():
        if path.rstrip("/").endswith("/login"):
            continue
        for method, operation in operations.items():
            if method not in ("post", "patch", "put", "delete"):
                continue
            operation.setdefault("parameters", []).append({
                "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
                "description": "Replays the first response for 24 h; a different body → 422 idempotency_key_reused; "
                               "still running → 409 idempotency_key_in_use.",
            })
            operation.setdefault("responses", {}).setdefault("422", {
                "description": "Idempotency key reused with a different body. Code: `idempotency_key_reused`",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            })
    return result
