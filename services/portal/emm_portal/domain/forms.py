"""Posted forms checked on the portal before any API call, so the common mistakes get a message
in the page's language next to their field. The owning API still checks everything; its 422
`loc` names a field of the same name.

Messages are gettext msgids marked with N_ (translated when the page is rendered).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emm_portal.domain.form_input import several


def N_(message: str) -> str:
    """Marks a msgid for extraction; the template translates it."""
    return message


REQUIRED = N_("Enter this information.")
TOO_LONG = N_("This is too long.")
CHOOSE_ONE = N_("Choose one of the options.")
NOT_ACCEPTED = N_("This value was not accepted. Check it and try again.")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass
class CheckedForm:
    """What was typed (`values`, to show it again), what the API gets (`data`) and the field errors."""

    values: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, form: Mapping[str, Any], name: str, *, max_length: int, required: bool = True,
             message: str = REQUIRED) -> str | None:
        value = str(form.get(name) or "").strip()
        self.values[name] = value
        if not value:
            if required:
                self.errors[name] = message
            return None
        if len(value) > max_length:
            self.errors[name] = TOO_LONG
            return None
        self.data[name] = value
        return value

    def choice(self, form: Mapping[str, Any], name: str, allowed: tuple[str, ...], *, default: str | None = None,
               message: str = CHOOSE_ONE) -> str | None:
        value = str(form.get(name) or "").strip() or (default or "")
        self.values[name] = value
        if value not in allowed:
            self.errors[name] = message
            return None
        self.data[name] = value
        return value

    def choices(self, form: Mapping[str, Any], name: str, allowed: tuple[str, ...],
                message: str = CHOOSE_ONE) -> list[str]:
        """Several values of one field (checkboxes), none required; each must be one of `allowed`."""
        chosen = list(dict.fromkeys(several(form, name)))
        self.values[name] = chosen
        if any(value not in allowed for value in chosen):
            self.errors[name] = message
            return []
        if chosen:
            self.data[name] = chosen
        return chosen

    def email(self, form: Mapping[str, Any], name: str = "email") -> str | None:
        value = self.text(form, name, max_length=254, message=N_("Enter your email address."))
        if value is not None and not EMAIL.match(value):
            self.errors[name] = N_("Enter an email address like name@example.org.")
            del self.data[name]
            return None
        return value

    def refused_by_api(self, api_errors: Mapping[str, str], known: Mapping[str, str] | None = None) -> None:
        """Field errors of an API's 422 or 409: on the field of the same name (`known` renames
        some), with our own message for it; one naming no field of the form goes to the top."""
        for api_field, _message in api_errors.items():
            name = (known or {}).get(api_field, api_field)
            self.errors[name if name in self.values else "_"] = NOT_ACCEPTED

    @property
    def ok(self) -> bool:
        return not self.errors
