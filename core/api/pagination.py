"""Cursor pagination on the primary key: the last page of a million rows costs what the first does."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Newest first; `page_size` up to 200."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # A malformed cursor is bad input (400), not a missing resource.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["This cursor is not valid."]}) from None


class OldestFirstCursorPagination(IdCursorPagination):
    ordering = "id"
