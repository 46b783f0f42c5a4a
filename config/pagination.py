from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

if TYPE_CHECKING:  # DRF's settings import this module while rest_framework.views is loading
    from rest_framework.request import Request
    from rest_framework.views import APIView


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

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        """Both start at 1 (a page past the end, or page 0, is a 404; a page_size over 250 reads 250)."""
        from config.fields import MAX_ID

        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update({"minimum": 1, "maximum": MAX_ID})
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Number of results to return per page (default {self.page_size}, " \
                                           f"at most {self.max_page_size}; more reads {self.max_page_size})."
        return parameters
