"""The staff directory's rules: who an organizer acts for, what may change, what is published."""

import pytest

from emm_registration.adapters.documents import staff_from_document, staff_to_document
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.staff import staff_id_for
from tests.unit.registration.examples import NOW, later, staff_member


def test_a_staff_member_is_identified_by_their_email_whatever_its_case():
    member = staff_member("fatou", email="  Fatou@IOM.example.org ")
    assert member.email == "fatou@iom.example.org"
    assert member.staff_id == staff_id_for("FATOU@iom.example.org") and member.staff_id.startswith("stf-")


def test_adding_a_staff_member_publishes_their_contact_on_the_internal_topic():
    member = staff_member("fatou", offices=["RO Dakar", "RO Dakar", "CO Abidjan"])
    [event] = member.pending_events
    assert event.event_type() == "org.iom.emm.staff.updated.v1"
    assert event.payload() == {"staff_id": member.staff_id, "full_name": "Fatou Ndiaye",
                               "email": "fatou@iom.example.org", "preferred_language": "fr", "role": "organizer",
                               "offices": ["RO Dakar", "CO Abidjan"], "regional": False, "active": True,
                               "updated_at": "2026-04-02T10:00:00Z"}


def test_an_organizer_acts_for_an_office_or_for_all_as_regional_staff():
    with pytest.raises(InvalidInput) as refused:
        staff_member("fatou", offices=[])
    assert refused.value.field == "offices"
    assert staff_member("fatou", offices=[], regional=True).regional
    assert staff_member("moussa", role="facilitator", offices=[]).offices == []


@pytest.mark.parametrize("overrides, field", [
    ({"role": "participant"}, "role"), ({"preferred_language": "de"}, "preferred_language"),
    ({"email": "not an email"}, "email"), ({"full_name": " "}, "full_name"), ({"offices": "RO Dakar"}, "offices"),
    ({"regional": "yes"}, "regional"), ({"offices": [f"office {n}" for n in range(51)]}, "offices"),
])
def test_bad_details_are_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidInput) as refused:
        staff_member("fatou", **overrides)
    assert refused.value.field == field


def test_a_revision_publishes_only_when_something_changed():
    member = staff_member("fatou")
    member.pending_events.clear()
    assert member.revise({"full_name": "Fatou Ndiaye", "offices": ["RO Dakar"]}, later(1)) == []
    assert member.pending_events == []
    assert member.revise({"active": False, "role": "facilitator"}, later(2)) == ["role", "active"]
    [event] = member.pending_events
    assert event.payload()["active"] is False and event.payload()["updated_at"] == "2026-04-02T10:02:00Z"


def test_the_email_cannot_be_changed():
    with pytest.raises(InvalidInput) as refused:
        staff_member("fatou").revise({"email": "other@iom.example.org"}, later(1))
    assert refused.value.field == "email" and "new staff member" in refused.value.message


def test_the_document_round_trip_is_exact():
    member = staff_member("fatou", offices=["RO Dakar", "CO Abidjan"])
    restored = staff_from_document(staff_to_document(member))
    assert restored == member and restored.updated_at == NOW
