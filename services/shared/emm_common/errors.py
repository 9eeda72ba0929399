"""Errors every service's domain raises. Each names the input field (or item) at fault, and
knows the HTTP status the API answers with (the shared app maps them; the domain stays free
of HTTP itself, and of where in the request a field was: the app locates it, see
`emm_common.http.error_location`)."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; `field` is the input or item at fault, `message` says why."""

    http_status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.within: tuple[str | int, ...] = ()

    def at(self, *container: str | int) -> "DomainError":
        """This error, raised while handling one item of a list in the request body, e.g.
        `error.at("participants", 1)`: the answer's `loc` becomes [body, participants, 1, field]."""
        self.within = (*container, *self.within)
        return self


class InvalidInput(DomainError):
    """The input itself is wrong, whatever the state."""

    http_status = 422


class Conflict(DomainError):
    """The input is fine but the current state forbids it, e.g. a session not started yet."""

    http_status = 409


class NotFound(DomainError):
    """The thing the command refers to does not exist."""

    http_status = 404


class Forbidden(DomainError):
    """This person may not do this, e.g. evaluate a session they are not registered in."""

    http_status = 403


class Unauthorized(DomainError):
    """The credential presented is not valid (a sign-in link expired, used already, or forged)."""

    http_status = 401
