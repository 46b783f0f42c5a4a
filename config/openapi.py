"""OpenAPI helpers: the one error shape and per-endpoint error codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.mixins import UpdateModelMixin


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


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The strings a DecimalField sent as a string accepts: at least one digit, at most its places,
    no sign when it takes no negative value. drf-spectacular's own pattern also matches "", "." and
    "-", which the field refuses. Bounds a pattern can say exactly are said: a maximum that is a
    power of ten (100 for a rate) and a minimum of one smallest unit (0.01 for an amount > 0)."""
    places, whole = field.decimal_places, field.max_whole_digits
    low, high = field.min_value, field.max_value
    if places is None or whole is None:  # a field without digit limits (DRF allows it): digits, one point
        return rf"^{'' if low is not None and low >= 0 else '-?'}(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
    top = ""
    if high is not None and high >= 1 and Decimal(high).log10() == int(Decimal(high).log10()):
        digits = int(Decimal(high).log10())
        whole = min(whole, digits)
        top = rf"|{int(high)}(?:\.0{{0,{places}}})?"
    sign = "" if low is not None and low >= 0 else "-?"
    if places == 0:
        return rf"^{sign}(?:[0-9]{{1,{whole}}}{top})$"
    fraction = rf"(?:\.[0-9]{{0,{places}}})?"
    if low is not None and low > 0 and Decimal(low) == Decimal(1).scaleb(-places):
        # Not zero: a non-zero whole part, or a zero one with a non-zero fraction.
        small = "|".join(rf"{'0' * n}[1-9][0-9]{{0,{places - 1 - n}}}" for n in range(places))
        return rf"^(?:0*[1-9][0-9]{{0,{whole - 1}}}{fraction}|0*\.(?:{small}){top})$"
    return rf"^{sign}(?:[0-9]{{1,{whole}}}{fraction}|\.[0-9]{{1,{places}}}{top})$"


class AutoSchema(BaseAutoSchema):
    """drf-spectacular's AutoSchema, with the shapes this API really accepts (so a schema-driven
    client or fuzzer sends nothing the API refuses for its shape alone, SPEC §1):

    - decimals sent as strings: a pattern without the empty string (``decimal_pattern``);
    - country codes: the ISO 3166-1 alpha-2 codes that exist (one ``CountryCode`` component);
    - a PATCH body is partial only where the view reads it so (DRF's generic update); an
      APIView's ``patch`` validates its serializer whole, so its required fields stay required;
    - the bodies of the order actions that refuse unknown fields (``StrictSerializer``) say
      ``additionalProperties: false``.
    """

    def _map_serializer_field(self, field: serializers.Field[Any, Any, Any, Any], direction: str,
                              bypass_extensions: bool = False) -> Any:
        from config.fields import CountryField

        if isinstance(field, CountryField) and direction == "request":
            return self._map_country_field(field)
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            min_length, max_length = getattr(field, "min_length", None), getattr(field, "max_length", None)
            if not field.allow_empty or min_length:
                schema["minItems"] = max(1, min_length or 0)
            if max_length is not None:
                schema["maxItems"] = max_length
        if (direction == "request" and isinstance(field, serializers.CharField) and field.trim_whitespace
                and not field.allow_blank and schema.get("type") == "string" and "format" not in schema
                and "pattern" not in schema and "enum" not in schema):
            # The value is trimmed before it is checked: one that is only spaces is blank, a 400.
            schema["pattern"] = r"\S"
        return schema

    def _map_country_field(self, field: serializers.CharField) -> dict[str, Any]:
        from config.countries import COUNTRY_CODES, COUNTRY_HELP

        component = ResolvedComponent(
            name="CountryCode", type=ResolvedComponent.SCHEMA, object="CountryCode",
            schema={"type": "string", "minLength": 2, "maxLength": 2, "enum": sorted(COUNTRY_CODES),
                    "description": COUNTRY_HELP})
        self.registry.register_on_missing(component)
        options = [component.ref]
        if field.allow_blank:
            options.append({"type": "string", "maxLength": 0})
        schema: dict[str, Any] = {"allOf": options} if len(options) == 1 else {"anyOf": options}
        if field.allow_null:
            schema["nullable"] = True
        if field.help_text and str(field.help_text) != COUNTRY_HELP:
            schema["description"] = str(field.help_text)
        return schema

    def _map_basic_serializer(self, serializer: serializers.BaseSerializer[Any], direction: str) -> dict[str, Any]:
        from config.serializers import StrictSerializer

        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        # Fields a request needs, whose absence the service names with its own code (a shipment's
        # inventory_source_id: 400 inventory_source_not_found), so the serializer lets them pass.
        needed = [name for name in getattr(serializer, "schema_required", ()) if name in schema.get("properties", {})]
        if direction == "request" and needed:
            schema["required"] = sorted({*schema.get("required", []), *needed})
            for name in needed:
                schema["properties"][name].pop("nullable", None)
        return schema

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        if self.method == "PATCH" and not isinstance(self.view, UpdateModelMixin):
            # drf-spectacular makes every PATCH body partial, as DRF's generic update reads it;
            # an APIView's patch validates its serializer whole (required fields stay required).
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)


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
            documented = responses["400"].get("description", "")
            if "`unknown_parameter`" not in documented:
                responses["400"]["description"] = f"{documented}, `unknown_parameter`" if "Codes:" in documented \
                    else _COMMON[400]
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
