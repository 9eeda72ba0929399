from datetime import timezone

import pytest

from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.participant import check_details, participant_id_for
from tests.unit.registration.examples import NOW, later, participant


def test_same_email_in_any_case_is_the_same_person():
    assert participant_id_for(" Aminata.Diallo@Example.org ") == participant_id_for("aminata.diallo@example.org")
    assert participant_id_for("aminata.diallo@example.org") != participant_id_for("moussa@example.org")


def test_participant_id_is_par_and_20_hex_of_the_email_hash():
    pid = participant_id_for("aminata.diallo@example.org")
    assert pid.startswith("par-") and len(pid) == 24 and int(pid[4:], 16) >= 0


def test_registration_normalises_email_and_country():
    person = participant("aminata", email="  Aminata@Example.ORG ", country="sn")
    assert person.email == "aminata@example.org"
    assert person.country == "SN"
    assert person.participant_id == participant_id_for("aminata@example.org")


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"), ("email", "a@b"), ("full_name", "  "), ("country", "SEN"),
    ("preferred_language", "es"), ("sex", "unknown"), ("phone", "call me"), ("consent_to_contact", "yes"),
    ("job_title", "x" * 201),
])
def test_invalid_details_name_the_field(field, value):
    with pytest.raises(InvalidInput) as error:
        participant("aminata", **{field: value})
    assert error.value.field == field


def test_details_are_checked_without_registering_anyone():
    details = {"email": "aminata@example.org", "full_name": "Aminata Diallo", "country": "SN",
               "preferred_language": "fr", "consent_to_contact": True}
    check_details(details)  # the optional fields may be left out
    for field, value in [("email", "not-an-email"), ("phone", "call me"), ("consent_to_contact", None)]:
        with pytest.raises(InvalidInput) as error:
            check_details({**details, field: value})
        assert error.value.field == field


@pytest.mark.parametrize("written, country, stored", [
    ("(+245) 955-123-456", "GW", "+245955123456"),
    ("955 123 456", "GW", "+245955123456"),  # no country code: the person's country's
    ("+221 77 000 00 00", "SN", "+221770000000"),
    ("77.000.00.00", "SN", "+221770000000"),
    ("00221 770000000", "SN", "+221770000000"),  # the international prefix dialled from Senegal
    ("024 123 4567", "GH", "+233241234567"),  # the national trunk 0 is dropped
    ("+44 20 7946 0958", "SN", "+442079460958"),  # a number from another country keeps its own code
])
def test_a_phone_number_in_any_format_is_stored_in_e164(written, country, stored):
    person = participant("aminata", phone=written, country=country)
    assert person.phone == stored
    assert person.contact()["phone"] == stored


@pytest.mark.parametrize("written, country, why", [
    ("call me", "SN", "not a phone number"),
    ("+221 77", "SN", "too short"),
    ("+999 123 456 789", "SN", "country code"),
    ("955123456", "SN", "not a valid phone number in SN"),  # a Guinea-Bissau number without its +245
    ("+221 33 869 62 00 ext. 1234", "SN", "extension"),
])
def test_an_invalid_phone_number_is_refused_saying_why(written, country, why):
    with pytest.raises(InvalidInput) as error:
        participant("aminata", phone=written, country=country)
    assert error.value.field == "phone" and why in error.value.message, error.value.message


def test_revising_other_details_keeps_a_phone_stored_before_normalisation():
    person = participant("aminata")
    person.phone = "955123456"  # accepted (and stored as written) before numbers were normalised
    assert person.revise({"job_title": "Head of Unit"}, later(5)) == ["job_title"]
    assert person.phone == "955123456"
    assert person.revise({"phone": "+221 77 000 00 00"}, later(6)) == ["phone"] and person.phone == "+221770000000"


def test_naive_time_is_refused():
    with pytest.raises(InvalidInput) as error:
        participant("aminata", now=NOW.replace(tzinfo=None))
    assert error.value.field == "now"


def test_public_profile_has_no_email_or_phone():
    profile = participant("aminata").public_profile()
    assert "email" not in profile and "phone" not in profile
    assert profile == {"participant_id": participant_id_for("aminata@example.org"), "full_name": "Aminata Diallo",
                       "organization": "IOM RO Dakar", "job_title": "Project Manager", "country": "SN",
                       "preferred_language": "fr", "working_languages": ["fr"], "sex": "female"}


def test_working_languages_are_the_persons_own_with_the_preferred_one_always_among_them():
    # Issue 14: a trainer's languages came from the sessions they attended.
    assert participant("chidi", preferred_language="en").public_profile()["working_languages"] == ["en"]
    both = participant("awa", preferred_language="en", working_languages=["pt", "fr", "pt"])
    assert both.public_profile()["working_languages"] == ["fr", "en", "pt"]
    with pytest.raises(InvalidInput) as error:
        participant("awa", working_languages=["de"])
    assert error.value.field == "working_languages"
    with pytest.raises(InvalidInput):
        participant("awa", working_languages="fr")
    assert both.revise({"working_languages": ["en"]}, later(5)) == ["working_languages"]
    assert both.public_profile()["working_languages"] == ["en"]


def test_contact_carries_email_phone_and_consent():
    contact = participant("aminata").contact()
    assert contact["email"] == "aminata@example.org"
    assert contact["phone"] == "+221770000000"
    assert contact["consent_to_contact"] is True
    assert contact["consent_recorded_at"] == contact["updated_at"] == "2026-04-02T10:00:00Z"


def test_registering_records_contact_updated():
    person = participant("aminata")
    assert [e.event_type() for e in person.pending_events] == ["org.iom.emm.contact.updated.v1"]


def test_withdrawing_consent_records_when():
    person = participant("aminata")
    person.pending_events.clear()
    assert person.revise({"consent_to_contact": False}, later(5)) == ["consent_to_contact"]
    assert person.consent_recorded_at == later(5).astimezone(timezone.utc)
    assert person.pending_events[-1].payload()["consent_to_contact"] is False


def test_revising_with_the_same_details_records_nothing():
    person = participant("aminata")
    person.pending_events.clear()
    assert person.revise({"full_name": " Aminata Diallo ", "country": "sn"}, later(5)) == []
    assert person.pending_events == [] and person.updated_at == NOW


def test_email_cannot_be_revised():
    with pytest.raises(InvalidInput) as error:
        participant("aminata").revise({"email": "other@example.org"}, later(5))
    assert error.value.field == "email"
