"""The JSON parser for the API: DRF's, plus a clean 400 for JSON nested too deeply.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) for input like ``[[[[…]]]]``
nested a few thousand levels deep; DRF's parser lets it through as a 500. Here it is a
400 ``parse_error`` like any other malformed body (SPEC §10: no 5xx for any input).
"""

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[Any], media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if _holds_nul(data):
            # PostgreSQL keeps no NUL in text or jsonb: refused here, never a 500 at the write.
            raise ParseError("JSON parse error - strings may not contain NUL (\\u0000) characters.")
        return data


def _holds_nul(value: Any) -> bool:
    """Whether any string (key or value) of the parsed document holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
