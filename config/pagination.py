from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

if TYPE_CHECKING:  # DRF's settings import this module while rest_framework.views is loading
    from rest_framework.request import Request


class StandardPagination(PageNumberPagination):
    """`{count, next, previous, results}`; `page_size` 50 by default, at most 250."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 250

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number between 1 and 250 is required."]}) from None
        if size < 1:
            raise ValidationError({"page_size": ["A whole number between 1 and 250 is required."]})
        return min(size, self.max_page_size)
