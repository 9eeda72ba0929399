"""The participant's enrollment form as the registration API's `Person` body takes it."""

from starlette.datastructures import FormData

from emm_portal.domain.enrollment import check_enrollment

FILLED = [("full_name", "Chidi Nwosu"), ("email", "chidi@example.org"), ("country", "NG"),
          ("preferred_language", "en"), ("consent_to_contact", "yes")]


def test_working_languages_come_from_the_ticked_boxes_and_may_be_left_out():
    ticked = check_enrollment(FormData(FILLED + [("working_languages", "en"), ("working_languages", "pt")]), {"NG"})
    assert ticked.ok and ticked.data["working_languages"] == ["en", "pt"]
    none = check_enrollment(FormData(FILLED), {"NG"})
    assert none.ok and "working_languages" not in none.data and none.values["working_languages"] == []


def test_an_unknown_working_language_is_refused_on_its_field():
    refused = check_enrollment(FormData(FILLED + [("working_languages", "de")]), {"NG"})
    assert not refused.ok and set(refused.errors) == {"working_languages"}
