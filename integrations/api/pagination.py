"""Cursor pagination: stable under inserts, constant cost however deep the page.

``?page_size=`` (1 to 200, default 50) and ``?cursor=`` (opaque, taken from ``next`` or
``previous``). Every list is ordered by a unique key (``id``, or a score then ``id``), so
no row is skipped or repeated while a client pages through.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


class ApiCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"
    invalid_cursor_message = "The cursor is not valid: pass back a next or previous URL as is."

    def get_page_size(self, request):  # type: ignore[no-untyped-def]
        # An explicit page_size that is not a whole number from 1 to 200 is clamped rather
        # than ignored, so a client asking for 1000 gets 200 (the documented maximum).
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            return self.page_size
        return min(max(size, 1), self.max_page_size)

    def get_paginated_response_schema(self, schema):  # type: ignore[no-untyped-def]
        described = super().get_paginated_response_schema(schema)
        described["properties"]["next"]["description"] = (
            "URL of the next page (same filters), or null on the last page."
        )
        return described
