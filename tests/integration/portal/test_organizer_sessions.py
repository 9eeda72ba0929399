"""The organizer's session pages through the real registration API, as a browser without
JavaScript: schedule (once, however often the form is sent), change, the lifecycle with a
confirmed cancellation, the list with its filters, and a registration that is down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.integration.portal.conftest import enrol_by_api, person, schedule, submit
from tests.integration.portal.staff import api_get, error_of, field_value, session_today, staff_browser
from tests.processes import portal

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def session_fields(**overrides) -> dict:
    start = date.today() + timedelta(days=40)
    return {"title": "EMM2.0 ToT Abidjan", "kind": "training_of_trainers",
            "modules": "migration-governance\nlabour-migration", "organizing_office": "CO Abidjan",
            "city": "Abidjan", "country": "CI", "venue": "", "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=1)).isoformat(), "timezone": "Africa/Abidjan",
            "languages": ["fr", "en"], "capacity": "12", "enrollment_opens_at": "", "enrollment_closes_at": "",
            "facilitator_ids": "", "target_audience": "", **overrides}


def sessions_titled(stack, title: str) -> list[dict]:
    return [s for s in api_get(stack, stack.registration, "/sessions", limit=200) if s["session"]["title"] == title]


def test_a_session_scheduled_with_the_form_exists_once_however_often_it_is_sent(stack):
    title = f"ToT Abidjan {stack.unique}-once"
    with staff_browser(stack.portal, stack) as client:
        form = client.get("/organize/sessions/new")
        assert form.status_code == 200 and field_value(form, "session_id").startswith("ses-")
        fields = {**session_fields(title=title), "session_id": field_value(form, "session_id")}
        first, again = submit(client, "/organize/sessions/new", fields, form), \
            submit(client, "/organize/sessions/new", fields, form)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        detail = client.get(first.headers["location"])
    assert detail.status_code == 200 and "La session est planifiée." in detail.text and "Côte d’Ivoire" in detail.text
    [created] = sessions_titled(stack, title)
    assert created["session"]["modules"] == ["migration-governance", "labour-migration"]
    assert created["session"]["capacity"] == 12


def test_mistakes_are_shown_next_to_their_fields_in_french_keeping_what_was_typed(stack):
    with staff_browser(stack.portal, stack) as client:
        form = client.get("/organize/sessions/new")
        fields = {**session_fields(title="", capacity="douze", end_date="2020-01-01", city="Bouaké"),
                  "session_id": field_value(form, "session_id")}
        page = submit(client, "/organize/sessions/new", fields, form)
    assert page.status_code == 422 and 'class="error-summary"' in page.text
    assert error_of(page, "title") == "Indiquez le titre de la session"
    assert error_of(page, "capacity") == "Indiquez un nombre entier de 1 à 10000"
    assert error_of(page, "end_date") == "Le dernier jour ne peut pas précéder le premier"
    assert field_value(page, "capacity") == "douze" and field_value(page, "city") == "Bouaké"


def test_a_change_is_saved_and_a_refusal_of_registration_is_shown_at_its_field(stack):
    session_id = schedule(stack, capacity=2)
    for name in ("Awa Sow", "Ibrahima Fall"):
        enrol_by_api(stack, session_id, person(stack, name))
    path = f"/organize/sessions/{session_id}/edit"
    with staff_browser(stack.portal, stack) as client:
        form = client.get(path)
        assert form.status_code == 200 and field_value(form, "capacity") == "2"
        values = {name: field_value(form, name) or "" for name in ("title", "organizing_office", "city", "venue",
                                                                   "start_date", "end_date", "capacity")}
        values.update(kind=field_value(form, "kind"), modules="migration-governance", country="SN",
                      timezone="Africa/Dakar", languages=["fr", "en"])
        unchanged = submit(client, path, values, form)
        assert unchanged.headers["location"].endswith("done=unchanged")
        refused = submit(client, path, {**values, "capacity": "1"}, form)
        assert refused.status_code == 422
        assert error_of(refused, "capacity").startswith("Non accepté : 2 seats are taken")
        changed = submit(client, path, {**values, "capacity": "3", "venue": "Salle 2"}, form)
        assert changed.status_code == 303 and changed.headers["location"].endswith("done=changed")
    session = api_get(stack, stack.registration, f"/sessions/{session_id}")["session"]
    assert (session["capacity"], session["venue"]) == (3, "Salle 2")


def test_the_lifecycle_moves_one_step_at_a_time_and_cancelling_needs_a_reason(stack):
    session_id = session_today(stack, status="scheduled")
    detail = f"/organize/sessions/{session_id}"
    with staff_browser(stack.portal, stack) as client:
        page = client.get(detail)
        assert 'value="open"' in page.text and 'value="completed"' not in page.text
        opened = submit(client, f"{detail}/status", {"status": "open"}, page)
        assert opened.headers["location"] == f"{detail}?done=open"
        started = submit(client, f"{detail}/status", {"status": "in_progress"}, page)
        assert started.status_code == 303
        assert api_get(stack, stack.registration, detail.replace("/organize", ""))["session"]["status"] == "in_progress"
        confirm = client.get(f"{detail}/cancel")
        assert confirm.status_code == 200 and "Annuler la session ?" in confirm.text
        no_reason = submit(client, f"{detail}/cancel", {"reason": " "}, confirm)
        assert no_reason.status_code == 422
        assert error_of(no_reason, "reason") == "Dites pourquoi la session est annulée : les participants le lisent"
        cancelled = submit(client, f"{detail}/cancel", {"reason": "La salle n'est pas disponible"}, confirm)
        assert cancelled.headers["location"] == f"{detail}?done=cancelled"
        after = client.get(cancelled.headers["location"])
    assert "La session est annulée" in after.text and 'tag-cancelled">Annulée' in after.text
    assert 'value="open"' not in after.text and "/cancel" not in after.text
    assert api_get(stack, stack.registration, f"/sessions/{session_id}")["session"]["status"] == "cancelled"


def test_the_list_filters_by_status_and_country(stack):
    dakar = session_today(stack, status="open", title=f"Liste Dakar {stack.unique}")
    bamako = session_today(stack, status="scheduled", title=f"Liste Bamako {stack.unique}", country="ML",
                           city="Bamako")
    with staff_browser(stack.portal, stack) as client:
        mali = client.get("/organize", params={"country": "ML"})
        open_ones = client.get("/organize", params={"status": "open"})
        everything = client.get("/organize", params={"country": "??", "status": "nonsense"})
    assert bamako in mali.text and dakar not in mali.text
    assert dakar in open_ones.text and bamako not in open_ones.text
    assert everything.status_code == 200


def test_with_registration_down_the_form_says_so_and_keeps_what_was_typed(stack, tmp_path):
    from emm_common.auth import ensure_key_pair

    ensure_key_pair(tmp_path / "jwt.pem", tmp_path / "jwt.pub.pem")
    lonely = portal(tmp_path).start()  # no API answers it
    try:
        with staff_browser(lonely, stack) as client:
            form = client.get("/organize/sessions/new")
            assert form.status_code == 200
            page = submit(client, "/organize/sessions/new", {**session_fields(title="Gardé"),
                                                              "session_id": field_value(form, "session_id")}, form)
    finally:
        lonely.stop()
    assert page.status_code == 503 and "ne répond pas pour le moment" in page.text
    assert field_value(page, "title") == "Gardé" and field_value(page, "session_id") == field_value(form, "session_id")
