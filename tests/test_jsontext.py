"""config.jsontext: JSON text made by orjson reads back exactly as json.dumps's would, with the
field encoder's formats for the types JSON has no literal for, and json itself for what orjson
does not take."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from config.jsontext import json_text


@dataclass
class _Point:
    x: int


VALUES = [
    {"amount": Decimal("12.30"), "when": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
     "naive": datetime(2026, 1, 2, 3, 4, 5), "day": date(2026, 1, 2), "at": time(1, 2, 3, 456789),
     "id": uuid.UUID(int=7), "nested": [{"ü": "é", "n": None, "t": True, "f": 1.5}]},
    {1: "int key", "2": 2},  # orjson refuses a non-text key: json writes "1"
    10**30,  # past 64 bits: json
    "lone \ud800 surrogate",  # orjson refuses it: json escapes it
    [0.1, 1e16, -0.0, 2**63 - 1, -(2**63)],
    "İ line\u2028separator \"quoted\" \\ back",
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_reads_back_as_json_dumps_with_the_fields_encoder(value):
    assert json.loads(json_text(value, encoder=DjangoJSONEncoder)) == json.loads(json.dumps(value,
                                                                                            cls=DjangoJSONEncoder))


def test_datetimes_keep_djangos_format_not_orjsons():
    text = json_text({"at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "t": time(1, 2, 3, 456789)},
                     encoder=DjangoJSONEncoder)
    assert json.loads(text) == {"at": "2026-01-02T03:04:05.123Z", "t": "01:02:03.456"}


def test_what_the_encoder_cannot_write_fails_as_with_json_dumps():
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text({"x": object()})
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text(_Point(1), encoder=DjangoJSONEncoder)  # a dataclass is not JSON for json either
    with pytest.raises(TypeError):
        json_text({"d": Decimal("1")})  # no encoder: json refuses a Decimal, and so does this
