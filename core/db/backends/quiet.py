"""The mixin of core/db/backends' two DatabaseWrappers (see the package's docstring)."""


class QuietDebugMixin:
    @property
    def queries_logged(self) -> bool:
        """Queries are recorded only when asked for (Django's: also whenever DEBUG is on)."""
        return self.force_debug_cursor
