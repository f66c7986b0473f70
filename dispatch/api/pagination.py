from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        # DRF silently used the default for `page_size=abc` or `0` (found by fuzzing: the schema
        # says a positive integer). Say so instead; sizes past the maximum are still capped.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                {
                    "page_size": [
                        f"Give a whole number of at least 1 (at most {self.max_page_size})."
                    ]
                }
            )
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request, paginator):
        # DRF read `page=` (empty) as page 1, where the schema says a number (found by fuzzing
        # as a technician). "last" stays, as DRF documents it; a number past the end is a 404.
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
                raise ValidationError({"page": ["Give a page number, 1 for the first page."]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Results per page, at least 1; larger than {self.max_page_size} is capped."
                )
        return parameters
