"""A participant's whole way through the portal without JavaScript: enrol from an invitation,
see my trainings, cancel, evaluate, send the same form twice, and a service that is down."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import httpx
import pytest

from tests.integration.portal.conftest import (browser, csrf_of, enrol_by_api, invitation, person, schedule,
                                               sign_in_as, submit, wait_until_evaluation_knows)
from tests.processes import ServiceProcess, portal

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def enrolment_fields(stack, name: str, **overrides) -> dict[str, str]:
    someone = person(stack, name)
    return {"full_name": someone["full_name"], "email": someone["email"], "organization": "Ministère de l'Intérieur",
            "job_title": "Chef de poste", "country": "SN", "phone": "", "sex": "female", "preferred_language": "fr",
            "consent_to_contact": "yes", **overrides}


def roster(stack, session_id: str) -> dict:
    return httpx.get(f"{stack.registration.url}/sessions/{session_id}/roster", headers=stack.organizer()).json()


def test_a_person_enrols_from_an_invitation_once_however_often_they_send_the_form(stack):
    session_id = schedule(stack)
    path = f"/invitations/{invitation(stack, session_id)}"
    with browser(stack.portal) as client:
        form = client.get(path)
        assert form.status_code == 200 and '<html lang="fr">' in form.text
        assert 'name="full_name"' in form.text and '<option value="SN" selected>' in form.text
        fields = enrolment_fields(stack, "Awa Sow")
        first = submit(client, path, fields, form)
        again = submit(client, path, fields, form)
        assert first.status_code == again.status_code == 200, first.text
        assert "/calendar.ics" in first.text
        calendar = client.get(f"{path}/calendar.ics")
    assert calendar.status_code == 200 and calendar.headers["content-type"].startswith("text/calendar")
    assert f"UID:{session_id}@emm.iom.int" in calendar.text
    registered = roster(stack, session_id)["registered"]
    assert [e["full_name"] for e in registered] == ["Awa Sow"]


def test_a_form_with_mistakes_says_which_fields_next_to_them_and_keeps_what_was_typed(stack):
    session_id = schedule(stack)
    path = f"/invitations/{invitation(stack, session_id)}"
    with browser(stack.portal) as client:
        page = submit(client, path, enrolment_fields(stack, "", email="not-an-address", organization="DGPAF"))
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text and 'href="#field-full_name"' in page.text
    assert 'aria-describedby="hint-email error-email" aria-invalid="true"' in page.text
    assert 'value="not-an-address"' in page.text and 'value="DGPAF"' in page.text
    assert roster(stack, session_id)["registered"] == []


def test_a_form_without_its_csrf_field_or_from_another_site_is_refused(stack):
    session_id = schedule(stack)
    path = f"/invitations/{invitation(stack, session_id)}"
    with browser(stack.portal) as client:
        page = client.get(path)
        without = client.post(path, data=enrolment_fields(stack, "Koffi Mensah"))
        elsewhere = client.post(path, data={**enrolment_fields(stack, "Koffi Mensah"), "csrf_token": csrf_of(page)},
                                headers={"origin": "https://elsewhere.example"})
    assert without.status_code == elsewhere.status_code == 403
    assert roster(stack, session_id)["registered"] == []


def test_my_trainings_show_the_waitlist_position_and_cancelling_asks_first_then_happens_once(stack):
    session_id = schedule(stack, capacity=1)
    seated = enrol_by_api(stack, session_id, person(stack, "Ngozi Eze"))
    waiting = enrol_by_api(stack, session_id, person(stack, "Yaw Owusu"))
    with browser(stack.portal) as client:
        sign_in_as(client, stack, waiting)
        mine = client.get("/trainings")
        assert mine.status_code == 200 and f'href="/trainings/{session_id}"' in mine.text
        assert "tag-waitlisted" in mine.text
        sign_in_as(client, stack, seated)
        detail = client.get(f"/trainings/{session_id}")
        assert detail.status_code == 200 and "tag-registered" in detail.text
        confirm = client.get(f"/trainings/{session_id}/cancel")
        assert confirm.status_code == 200 and 'action="/trainings/' in confirm.text
        done = submit(client, f"/trainings/{session_id}/cancel", {"reason": "Mission"}, confirm)
        assert done.status_code == 303 and done.headers["location"] == f"/trainings/{session_id}?done=cancelled"
        twice = submit(client, f"/trainings/{session_id}/cancel", {"reason": "Mission"}, confirm)
        assert twice.status_code == 303
        assert "tag-cancelled" in client.get(done.headers["location"]).text
    now = roster(stack, session_id)
    assert [e["full_name"] for e in now["registered"]] == ["Yaw Owusu"] and now["waitlist"] == []


def test_pages_of_a_signed_in_participant_need_a_sign_in(stack):
    with browser(stack.portal) as client:
        page = client.get("/trainings")
    assert page.status_code == 401 and 'href="/signin/email"' in page.text


LIKERT = ("work_performance", "methodology", "content_quality", "facilitation", "relevance", "organization")


def answers(**overrides) -> dict[str, str]:
    return {"anonymous": "no", **{f"answer-{item}": "5" for item in LIKERT}, "answer-recommend": "9",
            "answer-comments": "Très utile", **overrides}


def started_session_with(stack, name: str) -> tuple[str, dict]:
    yesterday = date.today() - timedelta(days=1)
    session_id = schedule(stack, start_date=yesterday.isoformat(), end_date=date.today().isoformat())
    enrollment = enrol_by_api(stack, session_id, person(stack, name))
    wait_until_evaluation_knows(stack, session_id, 1)
    return session_id, enrollment


def report(stack, session_id: str) -> dict:
    return httpx.get(f"{stack.evaluation.url}/sessions/{session_id}/report", headers=stack.organizer()).json()


def test_an_evaluation_sent_twice_is_saved_once_and_shown_back(stack):
    session_id, enrollment = started_session_with(stack, "Ousmane Diop")
    path = f"/trainings/{session_id}/evaluation"
    with browser(stack.portal) as client:
        sign_in_as(client, stack, enrollment)
        form = client.get(path)
        assert form.status_code == 200
        assert form.text.index('name="anonymous"') < form.text.index('name="answer-work_performance"')
        assert re.search(r'<fieldset[^>]*>\s*<legend>', form.text)
        first = submit(client, path, answers(), form)
        again = submit(client, path, answers(), form)
    assert first.status_code == again.status_code == 200, first.text
    assert "Très utile" in first.text and "9 / 10" in first.text
    saved = report(stack, session_id)
    assert saved["responses"] == 1, saved


def test_an_unanswered_question_is_named_and_the_other_answers_stay(stack):
    session_id, enrollment = started_session_with(stack, "Hawa Coulibaly")
    path = f"/trainings/{session_id}/evaluation"
    with browser(stack.portal) as client:
        sign_in_as(client, stack, enrollment)
        page = submit(client, path, answers(**{"answer-methodology": ""}))
    assert page.status_code == 422 and 'href="#field-answer-methodology"' in page.text
    assert 'value="9" checked' in page.text and "Très utile" in page.text
    assert report(stack, session_id)["responses"] == 0


def test_while_registration_is_down_the_enrolment_form_comes_back_with_what_was_typed(stack):
    session_id = schedule(stack)
    path = f"/invitations/{invitation(stack, session_id)}"
    cut_off = portal(stack.registration.keys, evaluation=stack.evaluation).start()  # no registration
    try:
        with browser(cut_off) as client:
            page = submit(client, path, enrolment_fields(stack, "Fanta Konaté"), client.get("/"))
    finally:
        cut_off.stop()
    assert page.status_code == 503
    assert 'value="Fanta Konaté"' in page.text and 'value="SN" selected' in page.text


def test_while_evaluation_is_down_the_answers_stay_and_sending_again_later_saves_them_once(stack):
    session_id, enrollment = started_session_with(stack, "Samuel Boateng")
    path = f"/trainings/{session_id}/evaluation"
    evaluation = ServiceProcess("evaluation", "api", stack.evaluation.prefix, stack.evaluation.database,
                                stack.evaluation.keys).start()
    web = portal(stack.registration.keys, registration=stack.registration, evaluation=evaluation).start()
    try:
        with browser(web) as client:
            sign_in_as(client, stack, enrollment)
            form = client.get(path)
            evaluation.stop()
            down = submit(client, path, answers(**{"answer-comments": "Gardez mes réponses"}), form)
            assert down.status_code == 503 and "Gardez mes réponses" in down.text
            evaluation.start()
            saved = submit(client, path, answers(**{"answer-comments": "Gardez mes réponses"}), down)
            assert saved.status_code == 200, saved.text
    finally:
        web.stop()
        evaluation.stop()
    assert report(stack, session_id)["responses"] == 1


def test_a_certified_participant_sees_their_certificate_reference_on_the_training(stack):
    import asyncio

    from emm_common.envelope import new_event
    from emm_common.publisher import EventPublisher
    from tests.conftest import KAFKA

    session_id = schedule(stack)
    enrollment = enrol_by_api(stack, session_id, person(stack, "Fatou Diop"))
    reference = f"EMM-TOT-{stack.unique.upper()}"

    async def certify() -> None:  # what the evaluation worker publishes when it certifies someone
        publisher = EventPublisher(KAFKA, stack.registration.prefix)
        await publisher.start()
        try:
            await publisher.publish(new_event("org.iom.emm.trainer.certified.v1", {
                "trainer_id": f"trn-{enrollment['participant_id']}", "participant_id": enrollment["participant_id"],
                "session_id": session_id, "certified_at": "2026-05-20T16:00:00Z", "certificate_reference": reference,
                "full_name": "Fatou Diop", "languages": ["fr"], "country": "SN", "modules": ["border-management"]},
                source="/emm/evaluation"))
        finally:
            await publisher.stop()

    with browser(stack.portal) as client:
        sign_in_as(client, stack, enrollment)
        before = client.get(f"/trainings/{session_id}")
        assert before.status_code == 200 and reference not in before.text
        asyncio.run(certify())
        deadline = time.monotonic() + 60
        while reference not in (page := client.get(f"/trainings/{session_id}")).text and time.monotonic() < deadline:
            time.sleep(0.5)
    assert reference in page.text and "20 mai 2026" in page.text


def test_the_evaluation_asks_whether_comments_may_be_quoted_and_never_names_an_anonymous_answer(stack):
    session_id, enrollment = started_session_with(stack, "Adjoa Mensah")
    path = f"/trainings/{session_id}/evaluation"
    with browser(stack.portal) as client:
        sign_in_as(client, stack, enrollment)
        form = client.get(path)
        assert 'name="quote_consent" value="no" checked' in form.text  # not quoted unless they say so
        named = submit(client, path, answers(anonymous="yes", quote_consent="named"), form)
        assert named.status_code == 422 and 'href="#field-quote_consent"' in named.text
        assert report(stack, session_id)["responses"] == 0
        unnamed = submit(client, path, answers(anonymous="yes", quote_consent="unnamed",
                                               **{"answer-comments": "Très pratique."}), form)
    assert unnamed.status_code == 200, unnamed.text
    deadline = time.monotonic() + 60
    while not (quotable := report(stack, session_id)["quotable"]) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert [(q["text"], q["author"]) for q in quotable] == [("Très pratique.", None)]
