"""The organizer's form for a member of the staff directory (organizers and facilitators)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emm_portal.domain.form_input import N_, FormReader, Problem
from emm_registration.domain import fields as f
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.participant import normalise_email
from emm_registration.domain.staff import MAX_OFFICES

ROLES = ("organizer", "facilitator")
FIELDS = ("full_name", "email", "preferred_language", "role", "offices", "regional", "active")
ENTER_NAME = N_("Enter the person's full name")
BAD_EMAIL = N_("Enter an email address like name@example.org")
CHOOSE_LANGUAGE = N_("Choose the language of their emails")
CHOOSE_ROLE = N_("Choose organizer or facilitator")
ENTER_OFFICE = N_("Name the office an organizer acts for, or tick that they act for the whole region")


@dataclass(frozen=True)
class StaffForm:
    values: Mapping[str, Any]
    problems: Mapping[str, Problem]
    body: Mapping[str, Any] | None  # registration's POST /staff (and PATCH /staff/{id}) body


def read_staff_form(form: Mapping[str, Any], *, editing: bool = False) -> StaffForm:
    """Check a posted staff member. Editing: the email stays as it is (it is the person's
    identity in the directory) and the active box is read (a new member is active)."""
    read = FormReader(form)
    body: dict[str, Any] = {}
    if not editing:
        email = read.text("email", f.EMAIL_LENGTH, missing=BAD_EMAIL)
        if email is not None:
            try:
                body["email"] = normalise_email(email)
            except InvalidInput:
                read.problem("email", BAD_EMAIL)
    body.update({
        "full_name": read.text("full_name", f.NAME_LENGTH, missing=ENTER_NAME),
        "preferred_language": read.choice("preferred_language", f.LANGUAGES, missing=CHOOSE_LANGUAGE),
        "role": read.choice("role", ROLES, missing=CHOOSE_ROLE),
        "regional": read.checkbox("regional"),
        "active": read.checkbox("active") if editing else True,
    })
    # Registration's rule: an organizer acts for an office, unless regional; a facilitator need not.
    body["offices"] = read.lines("offices", f.NAME_LENGTH, MAX_OFFICES, missing=ENTER_OFFICE,
                                 at_least_one=body["role"] == "organizer" and not body["regional"])
    if not read.ok:
        return StaffForm(read.values, read.problems, None)
    return StaffForm(read.values, {}, body)


def staff_values(member: Mapping[str, Any]) -> dict[str, Any]:
    """The form filled from a directory entry, for the edit page."""
    return {**{name: member.get(name) or "" for name in FIELDS}, "offices": "\n".join(member.get("offices") or []),
            "regional": bool(member.get("regional")), "active": bool(member.get("active", True))}
