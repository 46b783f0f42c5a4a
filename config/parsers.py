"""The JSON parser for the API: DRF's, plus a clean 400 for JSON nested too deeply.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) for input like ``[[[[…]]]]``
nested a few thousand levels deep; DRF's parser lets it through as a 500. Here it is a
400 ``parse_error`` like any other malformed body (SPEC §10: no 5xx for any input).
"""

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[Any], media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        where = _nul_path(data)
        if where is not None:
            # PostgreSQL keeps no NUL in text or jsonb: refused here, naming the field, never a 500 at the write.
            raise ValidationError({where or "non_field_errors": ["NUL characters (\\u0000) are not allowed."]})
        return data


def _nul_path(value: Any) -> str | None:
    """The dotted path of the first string (key or value) holding a NUL character, else None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return child_path.replace("\x00", "")
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{n}" if path else str(n), child) for n, child in enumerate(item))
    return None
