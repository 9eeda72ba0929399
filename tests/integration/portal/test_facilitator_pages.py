"""The facilitator's pages through real registration and evaluation APIs, as a phone without
JavaScript (and with htmx's header): my sessions, one tap per person, peer feedback."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.integration.portal.conftest import csrf_of, enrol_by_api, person, submit
from tests.integration.portal.staff import (FACILITATOR, api_get, error_of, field_value, session_today,
                                            staff_browser)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def seated(stack, session_id, *names):
    return [enrol_by_api(stack, session_id, person(stack, name)) for name in names]


def test_my_sessions_lists_the_sessions_i_facilitate_and_not_the_others(stack):
    mine = session_today(stack, title="ToT que j'anime")
    other = session_today(stack, title="ToT d'un collègue", facilitator_ids=["stf-someone-else"])
    with staff_browser(stack.portal, stack, "facilitator") as client:
        page = client.get("/facilitate")
    assert page.status_code == 200
    assert "ToT que j&#39;anime" in page.text and "ToT d&#39;un collègue" not in page.text
    assert f"/facilitate/{mine}/attendance/{date.today().isoformat()}" in page.text
    assert other not in page.text


def test_each_tap_saves_one_mark_and_the_sheet_shows_it_saved(stack):
    session_id = session_today(stack)
    aminata, kofi = seated(stack, session_id, "Aminata Diallo", "Kofi Mensah")
    day = date.today().isoformat()
    path = f"/facilitate/{session_id}/attendance/{day}"
    with staff_browser(stack.portal, stack, "facilitator") as client:
        sheet = client.get(path)
        assert sheet.status_code == 200 and "Aminata Diallo" in sheet.text and "0 sur 2" in sheet.text
        saved = client.post(path, data={"participant_id": aminata["participant_id"], "full_name": "Aminata Diallo",
                                        "status": "late", "csrf_token": csrf_of(sheet)})
        assert saved.status_code == 303
        assert saved.headers["location"] == f"{path}?saved={aminata['participant_id']}#p-{aminata['participant_id']}"
        again = client.get(saved.headers["location"])
        assert "✓ Enregistré : En retard" in again.text and "1 sur 2" in again.text
        # With htmx the answer is the person's row alone, marked in place.
        row = client.post(path, data={"participant_id": kofi["participant_id"], "full_name": "Kofi Mensah",
                                      "status": "present", "csrf_token": csrf_of(sheet)}, headers={"HX-Request": "true"})
    assert row.status_code == 200 and row.text.lstrip().startswith(f'<li class="mark-row" id="p-{kofi["participant_id"]}"')
    assert 'value="present" class="mark mark-present" aria-pressed="true"' in row.text and "<html" not in row.text
    marks = api_get(stack, stack.registration, f"/sessions/{session_id}/attendance")["sheet"][day]
    assert {pid: mark["status"] for pid, mark in marks.items()} == {aminata["participant_id"]: "late",
                                                                    kofi["participant_id"]: "present"}


def test_a_mark_registration_refuses_says_why_and_is_not_saved(stack):
    session_id = session_today(stack)
    [awa] = seated(stack, session_id, "Awa Ndiaye")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    path = f"/facilitate/{session_id}/attendance/{tomorrow}"
    with staff_browser(stack.portal, stack, "facilitator") as client:
        sheet = client.get(path)
        refused = client.post(path, data={"participant_id": awa["participant_id"], "full_name": "Awa Ndiaye",
                                          "status": "present", "csrf_token": csrf_of(sheet)})
        assert refused.status_code == 422 and "Non enregistré" in refused.text and "Awa Ndiaye" in refused.text
        in_place = client.post(path, data={"participant_id": awa["participant_id"], "full_name": "Awa Ndiaye",
                                           "status": "present", "csrf_token": csrf_of(sheet)},
                               headers={"HX-Request": "true"})
    assert in_place.status_code == 200 and 'role="alert"' in in_place.text
    assert api_get(stack, stack.registration, f"/sessions/{session_id}/attendance")["sheet"] == {}


def test_a_day_that_is_not_one_of_the_sessions_is_not_found(stack):
    session_id = session_today(stack)
    with staff_browser(stack.portal, stack, "facilitator") as client:
        assert client.get(f"/facilitate/{session_id}/attendance/2020-01-01").status_code == 404
        assert client.get(f"/facilitate/{session_id}/attendance/yesterday").status_code == 404


def test_peer_feedback_needs_every_criterion_and_the_same_form_twice_is_one_rating(stack):
    session_id = session_today(stack)
    [trainee] = seated(stack, session_id, "Moussa Traoré")
    path = f"/facilitate/{session_id}/peer-feedback"
    criteria = ("content_mastery", "clarity", "participant_engagement", "time_management", "adult_learning_methods")
    with staff_browser(stack.portal, stack, "facilitator") as client:
        form = client.get(path)
        assert form.status_code == 200 and "Moussa Traoré" in form.text and "labour-migration" in form.text
        rating_id = field_value(form, "peer_feedback_id")
        fields = {"peer_feedback_id": rating_id, "trainee_participant_id": trainee["participant_id"],
                  "module": "labour-migration", **{f"scores.{c}": "4" for c in criteria},
                  "comment": "Exemples clairs"}
        incomplete = submit(client, path, {**fields, "scores.clarity": ""}, form)
        assert incomplete.status_code == 422
        assert error_of(incomplete, "scores.clarity") == "Choisissez une note de 1 à 5"
        assert 'value="Exemples clairs"' in incomplete.text or ">Exemples clairs</textarea>" in incomplete.text
        assert field_value(incomplete, "peer_feedback_id") == rating_id
        first = submit(client, path, fields, form)
        again = submit(client, path, fields, form)
        assert first.status_code == again.status_code == 303
        assert "Évaluation enregistrée pour Moussa Traoré" in client.get(first.headers["location"]).text


def test_an_organizer_may_take_attendance_too(stack):
    session_id = session_today(stack)
    with staff_browser(stack.portal, stack, "organizer") as client:
        assert client.get(f"/facilitate/{session_id}/attendance/{date.today().isoformat()}").status_code == 200


def test_a_participant_cannot_open_the_facilitators_pages(stack):
    session_id = session_today(stack)
    with staff_browser(stack.portal, stack, "participant", staff_id=FACILITATOR) as client:
        assert client.get(f"/facilitate/{session_id}/peer-feedback").status_code == 401
