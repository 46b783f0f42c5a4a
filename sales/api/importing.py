"""Order import (SPEC §7.2, seed 002): the document's shape, and the endpoint.

The serializers check shape only (types, required fields, limits) and hand the service
plain Python values; every rule (amounts, resolution of products, customers, methods,
stock, documents) lives in ``sales.importing``. Amounts stay in minor units here
(``84166.67`` pence), exactly as the document carries them: the service divides by 100 and
rounds where each amount lands.

A price, discount or full price is either an object ``{"amount", "tax"}`` (tax excluded,
tax beside it) or a bare number: a price including tax, whose tax the service derives
from the line's tax rate (seed 002, "Price Conventions").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.fields import MAX_ID, MAX_ORDER_LINES, CountryField, IdField, NormalizedEmailField, QuantityField
from config.openapi import decimal_pattern, error_responses
from config.parsers import JSONParser, _nul_path
from sales.importing import error_describe, order_import, validation_error
from sales.models import OrderStatus

# Minor units: 10^13 pence is 10^11 pounds, far above any real line and safely inside the
# 14-digit columns once divided by 100 (totals are checked again after multiplying).
MAX_MINOR = Decimal("10000000000000")
STATUS_NAMES = [s.label for s in OrderStatus]
PAYMENT_STATES = ["failed", "pending", "authorized", "partially captured", "captured", "partially refunded",
                  "refunded", "canceled", "errored"]
FULFILLMENT_STATES = ["failed", "pending", "open", "successful", "canceled", "errored"]


def _amount(value, *, field: str, errors: dict) -> Decimal | None:
    """One amount in minor units: a number ≥ 0 (fractions allowed), or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        errors[field] = [serializers.ErrorDetail("A number is required (minor units, e.g. 84166.67).", code="invalid")]
        return None
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips: 84166.67, not 84166.6699999…
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        errors[field] = [serializers.ErrorDetail("A number is required (minor units, e.g. 84166.67).", code="invalid")]
        return None
    if not number.is_finite():
        errors[field] = [serializers.ErrorDetail("A finite number is required.", code="invalid")]
    elif number < 0:
        errors[field] = [serializers.ErrorDetail("Must be 0 or more.", code="min_value")]
    elif number > MAX_MINOR:
        errors[field] = [serializers.ErrorDetail(f"Must be at most {MAX_MINOR} (minor units).", code="max_value")]
    else:
        return number
    return None


@extend_schema_field({"type": "number", "minimum": 0, "description": "Minor units (pence), fractions allowed"})
class MinorAmountField(serializers.Field):
    """A bare amount in minor units (payments)."""

    default_error_messages = {"invalid": _("A number is required.")}

    def to_internal_value(self, data):
        errors: dict = {}
        value = _amount(data, field="x", errors=errors)
        if errors:
            raise serializers.ValidationError(errors["x"])
        return value

    def to_representation(self, value):
        return value


_PRICE_SCHEMA = {
    "oneOf": [
        {"type": "number", "description": "Including tax, in minor units; the tax is derived from the line's rate"},
        {"type": "object", "properties": {"amount": {"type": "number", "description": "Excluding tax, minor units"},
                                          "tax": {"type": "number", "description": "Tax, minor units"}}},
    ]
}


@extend_schema_field(_PRICE_SCHEMA)
class PriceField(serializers.Field):
    """``{"amount", "tax"}`` or a bare number including tax → ``{"amount", "tax", "gross"}``.

    Nested: ``gross`` is None. Un-nested: ``amount`` and ``tax`` are None (the service derives
    them with the line's tax rate). ``tax_required``: a nested price must carry its tax.
    """

    def __init__(self, *, tax_required: bool = False, amount_required: bool = False, **kwargs):
        self.tax_required = tax_required
        self.amount_required = amount_required
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        errors: dict = {}
        if isinstance(data, dict):
            out: dict = {"gross": None}
            for key, required in (("amount", self.amount_required), ("tax", self.tax_required)):
                raw = data.get(key)
                if raw is None:
                    if required:
                        errors[key] = [serializers.ErrorDetail("This field is required.", code="required")]
                    out[key] = Decimal(0)
                    continue
                out[key] = _amount(raw, field=key, errors=errors)
            if errors:
                raise serializers.ValidationError(errors)
            return out
        gross = _amount(data, field="x", errors=errors)
        if errors:
            message = "Give an object {amount, tax} or a number (the price including tax, minor units)."
            if not isinstance(data, (int, float, str, Decimal)) or isinstance(data, bool):
                raise serializers.ValidationError(message, code="invalid")
            raise serializers.ValidationError(errors["x"])
        return {"amount": None, "tax": None, "gross": gross}

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IdOrTextField(serializers.Field):
    """An id or a name/e-mail (comment admin, fulfillment method)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError("Give an id (integer) or a text.", code="invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                raise serializers.ValidationError("Not a valid id.", code="invalid")
            return data
        text = data.strip()
        if len(text) > 255:
            raise serializers.ValidationError("At most 255 characters.", code="max_length")
        return text

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 64}, {"type": "integer"}]})
class IdOrTextCharField(serializers.CharField):
    """Text that other systems' documents may carry as a number (a product id): read as its text."""


@extend_schema_field({"oneOf": [
    {"type": "string", "format": "decimal",
     "pattern": decimal_pattern(serializers.DecimalField(max_digits=18, decimal_places=8, min_value=Decimal("0.00000001")))},
    {"type": "number", "minimum": 0.00000001}]})
class RateField(serializers.DecimalField):
    """An exchange rate: a JSON number (as seed 002's documents give it) or a decimal string."""


class AmountTaxSerializer(serializers.Serializer):
    """An order-level amount: excluding tax, and its tax (both minor units)."""

    amount = MinorAmountField(required=False, allow_null=True)
    tax = MinorAmountField(required=False, allow_null=True)


def _text(max_length: int, **kwargs):
    return serializers.CharField(max_length=max_length, required=False, allow_null=True, allow_blank=True, **kwargs)


class ImportAddressSerializer(serializers.Serializer):
    """Seed 002's address; ``mobile`` fills ``phone`` when that is empty, ``country`` defaults
    to the STORE_COUNTRY setting (the service applies both). ``reference`` and ``eori_number``
    are kept in the source document only."""

    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    company = _text(255)
    mobile = _text(64)
    phone = _text(64)
    line_1 = serializers.CharField(max_length=255)
    line_2 = _text(255)
    city = serializers.CharField(max_length=128)
    zone = _text(128)
    postcode = serializers.CharField(max_length=32)
    country = CountryField(required=False, allow_null=True, allow_blank=True,
                           help_text="ISO 3166-1 alpha-2 (any case); defaults to the store's country")
    reference = _text(255)
    eori_number = _text(64)


class ImportItemSerializer(serializers.Serializer):
    key = _text(255)
    variant_id = IdField(required=False, allow_null=True)
    product_id = IdOrTextCharField(max_length=64, required=False, allow_null=True, allow_blank=True,
                                   help_text="Our product id (a configurable product resolves to its first variant "
                                             "unless variant_id names one)")
    buyable_type = _text(255)
    buyable_id = serializers.IntegerField(required=False, allow_null=True)
    name = _text(255)
    url = _text(2048)
    sku = _text(64)
    reference = _text(255)
    manufacturer_id = serializers.IntegerField(required=False, allow_null=True)
    image = _text(2048)
    options = serializers.ListField(required=False, allow_null=True)
    shippable = serializers.BooleanField(required=False, allow_null=True, default=None)
    quantity = QuantityField()
    price = PriceField(tax_required=True, amount_required=True, help_text="Unit price (minor units)")
    discount = PriceField(required=False, allow_null=True, help_text="The line's total discount (minor units)")
    full_price = PriceField(required=False, allow_null=True)
    cost_price = serializers.DictField(required=False, allow_null=True)
    weight = serializers.FloatField(required=False, allow_null=True, min_value=0)
    weight_unit = _text(16)
    volume = serializers.FloatField(required=False, allow_null=True, min_value=0)
    volume_unit = _text(16)
    tag_ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True)
    hs = _text(64)
    origin_country = _text(2)
    subscription_plan_id = serializers.IntegerField(required=False, allow_null=True)
    goods_description = _text(2048)


class ImportPaymentSerializer(serializers.Serializer):
    method_id = IdField(required=False, allow_null=True, help_text="One of our payment method ids")
    driver = _text(64, help_text="A payment method code; an unknown one is kept as the payment's method text")
    reference = _text(255, help_text="Defaults to a new UUID")
    state = serializers.ChoiceField(PAYMENT_STATES, required=False, allow_null=True, default=None,
                                    help_text="Defaults to captured")
    amount = MinorAmountField(help_text="Minor units")

    def validate(self, attrs):
        if not attrs.get("method_id") and not attrs.get("driver"):
            raise serializers.ValidationError({"driver": ["Give driver (a payment method code) or method_id."]})
        return attrs


class ImportFulfillmentItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True)
    sku = _text(64, help_text="The sku of the order line to fulfil")
    quantity = QuantityField(required=False, allow_null=True, help_text="Defaults to what is left to ship")
    weight = serializers.FloatField(required=False, allow_null=True, min_value=0)
    weight_unit = _text(16)
    volume = serializers.FloatField(required=False, allow_null=True, min_value=0)
    volume_unit = _text(16)

    def validate(self, attrs):
        if not attrs.get("sku"):
            raise serializers.ValidationError({"sku": ["Give the sku of the order line to fulfil."]})
        return attrs


class ImportFulfillmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True)
    reference = _text(255)
    state = serializers.ChoiceField(FULFILLMENT_STATES, required=False, allow_null=True, default=None,
                                    help_text="Defaults to open; only successful fulfillments become shipments")
    method = IdOrTextField(required=False, allow_null=True, help_text="Becomes the shipment's carrier title")
    tracking_code = _text(255, help_text="Becomes the shipment's track number")
    tracking_url = _text(2048)
    weight = serializers.FloatField(required=False, allow_null=True, min_value=0)
    weight_unit = _text(16)
    volume = serializers.FloatField(required=False, allow_null=True, min_value=0)
    volume_unit = _text(16)
    delivery_note = _text(5000)
    notify = serializers.BooleanField(required=False, allow_null=True, default=None)
    dispatched_at = serializers.DateTimeField(required=False, allow_null=True)
    items = ImportFulfillmentItemSerializer(many=True, required=False, allow_null=True, allow_empty=False)


class ImportCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True)
    admin = IdOrTextField(required=False, allow_null=True, help_text="A staff id or e-mail; anything else is "
                                                                     "kept as the author's name")
    message = serializers.CharField(max_length=5000)
    customer_facing = serializers.BooleanField(required=False, allow_null=True, default=False)
    created_at = serializers.DateTimeField(required=False, allow_null=True)


class OrderImportSerializer(serializers.Serializer):
    """The order document of seed 002. Fields the mapping does not use are accepted and kept
    in the order's ``source_document``."""

    id = serializers.IntegerField(required=False, allow_null=True, help_text="The source system's id (kept only)")
    reference = serializers.CharField(max_length=255, help_text="Unique: a second import is refused")
    status_id = serializers.ChoiceField([s.value for s in OrderStatus], required=False, allow_null=True,
                                        help_text="1 pending … 7 fraud (SPEC §5); required when ordered_at is given "
                                                  "unless state is")
    state = serializers.ChoiceField(STATUS_NAMES, required=False, allow_null=True)
    customer_id = IdField(required=False, allow_null=True)
    email = NormalizedEmailField(max_length=256, required=False, allow_null=True)
    subtotal = AmountTaxSerializer(required=False, allow_null=True)
    shipping = AmountTaxSerializer(required=False, allow_null=True)
    discount = AmountTaxSerializer(required=False, allow_null=True)
    surcharge = AmountTaxSerializer(required=False, allow_null=True)
    shipping_method_id = IdField(required=False, allow_null=True, help_text="One of our shipping method ids")
    currency = _text(3, min_length=3, help_text="An enabled currency; default the base currency")
    exchange_rate = RateField(max_digits=18, decimal_places=8, required=False, allow_null=True,
                              min_value=Decimal("0.00000001"), rounding=ROUND_HALF_UP)
    shipping_address = ImportAddressSerializer(required=False, allow_null=True)
    billing_address = ImportAddressSerializer(required=False, allow_null=True)
    ip = serializers.IPAddressField(required=False, allow_null=True, allow_blank=True)
    channel = _text(64, help_text="Default import")
    subscription_id = serializers.IntegerField(required=False, allow_null=True)
    notify = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="Send the order e-mail (default true)")
    buy_items = serializers.BooleanField(required=False, allow_null=True, default=None,
                                         help_text="Reserve and take stock (default true)")
    ordered_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Becomes created_at")
    deliver_on = serializers.DateTimeField(required=False, allow_null=True)
    # Stub gap: many=True hands max_length to the ListSerializer (DRF 3.14+); the stubs' __init__ lacks it.
    items = ImportItemSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)  # type: ignore[call-arg]
    payments = ImportPaymentSerializer(many=True, required=False, allow_null=True)
    fulfillments = ImportFulfillmentSerializer(many=True, required=False, allow_null=True)
    comments = ImportCommentSerializer(many=True, required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("ordered_at") and attrs.get("status_id") is None and not attrs.get("state"):
            raise serializers.ValidationError({"status_id": ["Required when ordered_at is given (or give state)."]})
        return attrs


class ImportedOrderSerializer(serializers.Serializer):
    order = inline_serializer("ImportedOrderRef", {"id": serializers.IntegerField()})


SEED_EXAMPLE = {
    "reference": "ABC123", "email": "testing@gmail.com",
    "subtotal": {"amount": 84166.67, "tax": 16833.33}, "shipping": {"amount": 83.33, "tax": 16.67},
    "discount": {"amount": 8416.67, "tax": 1683.33}, "ordered_at": "2023-09-01T09:29:41.000000Z",
    "currency": "GBP", "status_id": 3, "notify": True,
    "billing_address": {"first_name": "Aero", "last_name": "Commerce", "line_1": "28-32 Albert Rd",
                        "city": "Middlesbrough", "postcode": "TS1 1QD", "country": "GB"},
    "items": [{"sku": "SKU-1", "name": "Widget", "quantity": 2, "price": {"amount": 42083.33, "tax": 8416.67},
               "discount": {"amount": 8416.67, "tax": 1683.33}}],
    "payments": [{"driver": "cash", "amount": 91000}],
    "comments": [{"admin": "admin@example.com", "message": "This is an API message", "customer_facing": True}],
}


class OrderImportView(APIView):
    required_perms = {"POST": ["sales.import_order"]}
    parser_classes = [JSONParser]  # the project's one JSON parser (depth limit); a form post is 415

    @extend_schema(
        operation_id="orders_import",
        summary="Import an order from a JSON document (seed 002): amounts in minor units, payments, fulfillments, "
                "comments",
        request=OrderImportSerializer,
        examples=[OpenApiExample("Seed 002", value=SEED_EXAMPLE, request_only=True)],
        responses={201: ImportedOrderSerializer, **error_responses(400, 409, codes={
            400: ["totals_mismatch", "currency_not_supported", "customer_not_found", "shipping_method_not_found",
                  "payment_method_not_found", "product_not_found", "order_item_not_found", "item_not_shippable",
                  "variant_required"],
            409: ["duplicate_reference", "insufficient_stock", "quantity_exceeds_remaining", "order_not_shippable"]})},
    )
    def post(self, request):
        serializer = OrderImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_import(document=request.data, actor=request.user, validated=serializer.validated_data)
        return Response({"order": {"id": order.id}}, status=status.HTTP_201_CREATED)


def document_validate(document: Any) -> dict[str, Any]:
    """The document's shape checked by OrderImportSerializer, for a caller outside a request (tests,
    scripts) that then calls ``order_import``: errors become one InvalidInput, as the API answers."""
    serializer = OrderImportSerializer(data=document)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        raise validation_error(exc.detail) from None
    return dict(serializer.validated_data)


# --------------------------------------------------------------------------- fast path for bulk import


class _Undecided(Exception):
    """The fast validator met something it does not decide itself: DRF decides."""


_EMPTY = serializers.empty


def _leaf(field: serializers.Field):
    """A validator for one leaf field with DRF's semantics: the common types are checked
    inline, anything else goes through the field's own ``run_validation``. ``None`` for a field
    that allows it is ``None`` without asking the field (DRF's ``validate_empty_values`` returns
    it before any validator runs); addresses carry many such nulls."""
    check = _leaf_check(field)
    if not field.allow_null or field.source == "*":
        return check

    def run_nullable(value):
        return None if value is None else check(value)

    return run_nullable


def _leaf_check(field: serializers.Field):
    kind = type(field)
    generic = field.run_validation

    def run_generic(value):
        try:
            return generic(value)
        except (serializers.ValidationError, serializers.SkipField):
            raise _Undecided from None
        except Exception:  # a Django ValidationError or anything odd: DRF reports it properly
            raise _Undecided from None

    if type(field) is serializers.CharField:  # exactly: subclasses add their own conversions
        max_length, min_length, allow_blank, trim = field.max_length, field.min_length, field.allow_blank, \
            field.trim_whitespace

        def run_char(value):
            if type(value) is not str:
                return run_generic(value)
            text = value.strip() if trim else value
            if not text:
                if allow_blank:
                    return ""
                raise _Undecided
            if (max_length is not None and len(text) > max_length) or (min_length is not None and len(text) < min_length) \
                    or "\x00" in text:
                raise _Undecided
            if not text.isascii():
                try:
                    text.encode("utf-8")  # lone surrogates fail, as DRF's surrogate validator refuses them
                except UnicodeEncodeError:
                    raise _Undecided from None
            return text

        return run_char
    if (isinstance(field, serializers.CharField) and kind is not serializers.CharField
            and kind.run_validation is serializers.CharField.run_validation
            and kind.validate_empty_values is serializers.Field.validate_empty_values
            and not any(getattr(v, "requires_context", False) for v in field.validators)):
        # A text field with its own conversion or checks (e-mail, country, id-or-text): DRF's own
        # steps for a non-blank text (to_internal_value, then each validator) without its error
        # bookkeeping, and each distinct value checked once (all of them are pure): the same
        # customers and countries come back line after line, and EmailValidator is the costliest
        # check of a document.
        convert, validators = field.to_internal_value, list(field.validators)
        valid: dict[str, str] = {}

        def run_text(value):
            if type(value) is not str or not value.strip():
                return run_generic(value)  # blank, or not text: DRF decides and words it
            known = valid.get(value)
            if known is not None:
                return known
            try:
                result = convert(value)
                for validator in validators:
                    validator(result)  # type: ignore[call-arg]  # none requires context (checked above)
            except Exception:
                raise _Undecided from None
            if len(valid) >= 10_000:
                valid.clear()
            valid[value] = result
            return result

        return run_text
    if isinstance(field, serializers.IntegerField) and all(
            type(v).__name__ in ("MinValueValidator", "MaxValueValidator") for v in field.validators):
        low, high = field.min_value, field.max_value

        def run_int(value):
            if type(value) is not int:
                return run_generic(value)
            if (low is not None and value < low) or (high is not None and value > high):
                raise _Undecided
            return value

        return run_int
    if type(field) is serializers.BooleanField:
        def run_bool(value):
            if value is True or value is False:
                return value
            return run_generic(value)

        return run_bool
    if type(field) is serializers.ChoiceField:
        mapping = field.choice_strings_to_values

        def run_choice(value):
            if type(value) in (str, int):
                key = str(value)
                if key in mapping:
                    return mapping[key]
            return run_generic(value)

        return run_choice
    if kind in (PriceField, MinorAmountField, IdOrTextField) and not field.validators:
        allow_null, convert = field.allow_null, field.to_internal_value

        def run_custom(value):
            if value is None:
                if allow_null:
                    return None
                raise _Undecided
            if value is _EMPTY:
                return run_generic(value)
            try:
                return convert(value)
            except serializers.ValidationError:
                raise _Undecided from None

        return run_custom
    if type(field) is serializers.DateTimeField and not field.validators:
        # DRF asks for the current time zone on every value; the command's is fixed, so ask once.
        zone = field.default_timezone()
        if zone is not None:  # None only without USE_TZ, where DRF never reads it
            field.timezone = zone

        def run_datetime(value):
            if type(value) is not str:
                return run_generic(value)
            try:
                parsed = parse_datetime(value)
            except (ValueError, TypeError):
                raise _Undecided from None
            if parsed is None:
                raise _Undecided
            try:
                return field.enforce_timezone(parsed)
            except Exception:
                raise _Undecided from None

        return run_datetime
    return run_generic


def _compile(field: serializers.Field):
    if isinstance(field, serializers.ListSerializer):
        if field.child is None:  # DRF's ListSerializer asserts a child; the stubs allow None
            raise TypeError("a list serializer without a child is not compiled")
        child = _compile(field.child)
        allow_null, allow_empty = field.allow_null, field.allow_empty
        # Stub gap: ListSerializer takes max_length/min_length (DRF 3.14+) but the stubs declare no attributes.
        max_length, min_length = field.max_length, field.min_length  # type: ignore[attr-defined]

        def run_list(value):
            if value is None:
                if allow_null:
                    return None
                raise _Undecided
            if type(value) is not list or (not value and not allow_empty) \
                    or (max_length is not None and len(value) > max_length) \
                    or (min_length is not None and len(value) < min_length):
                raise _Undecided
            return [child(v) for v in value]

        return run_list
    if isinstance(field, serializers.Serializer):
        if field.validators or field._read_only_defaults():
            raise TypeError("serializer-level validators are not compiled")
        given: dict = {}  # name → (validator, validate_<name>)
        required: list[str] = []
        defaults: list = []  # (name, default, validate_<name>) for absent fields with a default
        for name, f in field.fields.items():
            if f.read_only:
                continue
            check = getattr(field, f"validate_{name}", None)
            given[name] = (_compile(f), check)
            if f.required:
                required.append(name)
            elif f.default is not _EMPTY:
                defaults.append((name, f.default, check))
        validate = field.validate if type(field).validate is not serializers.Serializer.validate else None
        allow_null = field.allow_null

        def run_object(value):
            if value is None:
                if allow_null:
                    return None
                raise _Undecided
            if not isinstance(value, dict):
                raise _Undecided
            for name in required:
                if name not in value:
                    raise _Undecided
            out = {}
            for name, raw in value.items():  # keys the serializer does not declare are ignored, as DRF does
                entry = given.get(name)
                if entry is None:
                    continue
                result = entry[0](raw)
                if entry[1] is not None:
                    try:
                        result = entry[1](result)
                    except Exception:
                        raise _Undecided from None
                out[name] = result
            for name, default, check in defaults:
                if name not in value:
                    result = default() if callable(default) else default
                    if check is not None:
                        try:
                            result = check(result)
                        except Exception:
                            raise _Undecided from None
                    out[name] = result
            if validate is not None:
                try:
                    out = validate(out)
                except Exception:
                    raise _Undecided from None
            return out

        return run_object
    return _leaf(field)


class FastDocumentValidator:
    """``OrderImportSerializer``'s checks, compiled from its own fields for ``import_orders``
    (DRF's generic machinery costs ~1 ms a document; this ~0.1 ms). It only ever answers
    "valid, here is exactly what the serializer would return"; on anything else — an error,
    an unusual type — it returns None and the caller asks the serializer, which decides and
    words the errors. Tests check that both agree on every document they import."""

    def __init__(self) -> None:
        self._run = _compile(OrderImportSerializer())

    def __call__(self, document) -> dict | None:
        try:
            return self._run(document)
        except _Undecided:
            return None


class ImportDocumentChecker:
    """The shape check both bulk importers run on each document (``import_orders`` and import
    jobs): one JSON object, no NUL character, then the compiled validator, with the serializer
    deciding and wording whatever the compiled one leaves undecided. Answers the validated data,
    or the (code, message) of the refusal as the API would word it."""

    def __init__(self) -> None:
        self.fast = FastDocumentValidator()
        self.serializer = OrderImportSerializer()

    def __call__(self, document: Any, *, unit: str = "document", raw: bytes | None = None) -> dict | tuple[str, str]:
        """``raw``: the JSON text ``document`` was parsed from, when the caller has it: text with
        neither a NUL byte nor a ``\\u0000`` escape cannot hold a NUL, so the walk is skipped."""
        if not isinstance(document, dict):
            return "validation_error", f"a {unit} must hold one JSON object, not {type(document).__name__}"
        where = None if raw is not None and b"\\u0000" not in raw and b"\x00" not in raw else _nul_path(document)
        if where is not None:
            return "validation_error", f"{where}: NUL characters (\\u0000) are not allowed."
        data = self.fast(document)
        if data is not None:
            return data
        try:
            return self.serializer.run_validation(document)
        except ValidationError as exc:  # the same errors the API answers with
            error = validation_error(exc.detail)
            return error.code, error_describe(error)
