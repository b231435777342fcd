"""Domain error base: what went wrong, which field, and how an HTTP layer should answer.

Standard library only, so that domain models can raise these without importing a framework.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was changed."""

    status: int = 422
    title: str = "The request breaks a rule of the settings"
    type_slug: str = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class ConflictError(DomainError):
    status = 409
    title = "Conflicts with existing data"
    type_slug = "conflict"


class PermissionDeniedError(DomainError):
    status = 403
    title = "Not allowed"
    type_slug = "forbidden"


class VersionMismatchError(DomainError):
    status = 412
    title = "The resource has changed"
    type_slug = "version-mismatch"


class ValidationFailed(DomainError):
    """Several fields are wrong at once: every error is reported, not only the first."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        field, message = errors[0]
        super().__init__(message, field)
        self.errors = errors


class NotReadyError(DomainError):
    """The service cannot answer yet (for example the settings have not reached it)."""

    status = 503
    title = "Not ready yet"
    type_slug = "not-ready"
