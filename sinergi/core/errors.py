"""Errors that carry a message a person can act on.

Services raise these; pages, the API and the CLI each turn them into their
own answer (a form error, ``{"detail": ..., "errors": [...]}``, a line on
stderr with exit code 2), so the message is written once.
"""


class SinergiError(Exception):
    """A problem the user can fix; ``message`` says what and what to do."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DataFileError(SinergiError):
    """A data file (upload or shipped) that cannot be used as it is."""


class AccessDenied(SinergiError):
    """The user may see the object but not do this to it (answers 403)."""


class NotInScope(Exception):
    """The object is outside the user's scope, or does not exist: pages and
    the API answer 404 (core.middleware, sinergi.api), never saying which.
    Not a SinergiError: a form has nothing to correct, so no view shows it
    as a field error."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message
