from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`{count, next, previous, results}`; `page_size` 50 by default, at most 250."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 250

    def get_page_size(self, request):
        from rest_framework.exceptions import ValidationError

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
