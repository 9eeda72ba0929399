"""The enrollment form of an invitation: what a person gives to enrol themselves, as the
registration API's `Person` body (the same field names) takes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emm_portal.domain.forms import N_, CheckedForm
from emm_portal.domain.language import LANGUAGES

SEXES = ("female", "male", "other", "undisclosed")
NAME_LENGTH = 200  # registration's bound on a name, an organization, a job title
PHONE_INPUT_LENGTH = 40


def check_enrollment(form: Mapping[str, Any], countries: set[str]) -> CheckedForm:
    """The person's details from the form, or the errors (consent may be refused: then no email
    reaches them, which the page says before they send)."""
    checked = CheckedForm()
    checked.text(form, "full_name", max_length=NAME_LENGTH, message=N_("Enter your full name."))
    checked.email(form)
    checked.text(form, "organization", max_length=NAME_LENGTH, required=False)
    checked.text(form, "job_title", max_length=NAME_LENGTH, required=False)
    checked.choice(form, "country", tuple(sorted(countries)), message=N_("Choose the country where you work."))
    checked.text(form, "phone", max_length=PHONE_INPUT_LENGTH, required=False)
    checked.choice(form, "sex", SEXES, default="undisclosed")
    checked.choice(form, "preferred_language", LANGUAGES, message=N_("Choose the language of your emails."))
    checked.choices(form, "working_languages", LANGUAGES)
    consent = form.get("consent_to_contact") == "yes"
    checked.values["consent_to_contact"] = "yes" if consent else ""
    checked.data["consent_to_contact"] = consent
    return checked
