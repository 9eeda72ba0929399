"""What an API call can come to besides its answer, in the portal's words.

The API adapter turns status codes and connection errors into these; pages turn them into what
the person reads. `field_errors` maps a field name (the API's `detail[].loc` without its
"body"/"query"/"path" part, joined with dots) to the API's message.
"""

from __future__ import annotations


class ApiOutcome(Exception):
    def __init__(self, service: str, message: str = "", field_errors: dict[str, str] | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.field_errors = field_errors or {}


class NotSignedIn(ApiOutcome):
    """401: no token, or one that expired; the person signs in again."""


class NotAllowed(ApiOutcome):
    """403: the token's role or scope does not allow this."""


class NotFound(ApiOutcome):
    """404: no such session, enrollment, questionnaire..."""


class Refused(ApiOutcome):
    """409: the state forbids it now (session closed, evaluation not open yet, ...)."""


class Invalid(ApiOutcome):
    """422: input the service refused; `field_errors` names the fields."""


class Unavailable(ApiOutcome):
    """The service did not answer (down, timed out, 5xx): nothing may have happened; repeat later."""
