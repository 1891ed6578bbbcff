"""The one application error type services raise for a broken business rule or bad input.

Forms render it inline (field errors on their fields, the rest above the form); the API
renders it as application/problem+json. It is never a 500.
"""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(
        self,
        message: str,
        *,
        field_errors: dict[str, list[str]] | None = None,
        code: str = "invalid",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.code = code

    def apply_to_form(self, form) -> None:  # type: ignore[no-untyped-def]
        """Show this error on a Django form: per field where it names one, else at the top."""
        for field, messages in self.field_errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        if not self.field_errors:
            form.add_error(None, self.message)
