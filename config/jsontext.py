"""``json_text``: a value as JSON text, as ``json.dumps`` would make it for a JSONField, made by
orjson (about ten times faster; the bulk writers serialise every document, address and event
payload they write).

The text can differ from ``json.dumps``'s only in spacing and in non-ASCII characters written as
UTF-8 rather than escaped, which neither PostgreSQL's jsonb nor a JSONField read back can tell
apart. Whatever orjson does not take as ``json`` would is handed to ``json`` itself: types of
the encoder's ``default`` (datetimes, dates and times too, so their format is Django's), an
integer past 64 bits, a non-text key, a lone surrogate. One difference is kept on purpose: a
float that is not finite becomes ``null`` where ``json.dumps`` writes ``NaN`` (which no JSON
reader and no jsonb column accepts); callers that must refuse such a number check before
(``sales.importing.plan``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


_ENCODERS: dict[type[json.JSONEncoder] | None, json.JSONEncoder] = {}


def _encoder(cls: type[json.JSONEncoder] | None) -> json.JSONEncoder:
    instance = _ENCODERS.get(cls)
    if instance is None:
        instance = _ENCODERS[cls] = (cls or json.JSONEncoder)()
    return instance


def json_text(value: Any, *, encoder: type[json.JSONEncoder] | None = None) -> str:
    """``value`` as JSON text; ``encoder`` (a JSONEncoder class, such as a JSONField's) words the
    types JSON has no literal for, as it would for ``json.dumps(value, cls=encoder)``."""
    instance = _encoder(encoder)
    try:
        return orjson.dumps(value, default=instance.default, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError included: json decides, and words any error itself
        return instance.encode(value)


__all__ = ["json_text"]
