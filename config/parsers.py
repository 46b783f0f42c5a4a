"""The JSON parser for the API: DRF's, plus a clean 400 for JSON nested too deeply.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) for input like ``[[[[…]]]]``
nested a few thousand levels deep; DRF's parser lets it through as a 500. Here it is a
400 ``parse_error`` like any other malformed body (SPEC §10: no 5xx for any input).
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
