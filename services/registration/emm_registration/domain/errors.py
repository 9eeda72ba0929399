"""Errors the domain raises. Each names the input field at fault so the API can say which one."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; `field` is the input field at fault, `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidInput(DomainError):
    """The input itself is wrong, whatever the state (HTTP 422)."""


class Conflict(DomainError):
    """The input is fine but the current state forbids it (HTTP 409), e.g. a cancelled session."""


class NotFound(DomainError):
    """The thing the command refers to does not exist (HTTP 404)."""
