"""The organizer's reading pages through real APIs: attendance per day with its chart, the
session report with charts and headline sentences and its CSV, the report across sessions, the
trainer pool, the notification log with resend of a failed message, and the staff directory."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from pymongo import MongoClient

from emm_notification.domain.messages import MessageKind, PlannedMessage, PlanStatus
from emm_notification.service_layer.log_entries import new_entry
from tests.conftest import MONGODB_URI
from tests.integration.portal.conftest import (browser, enrol_by_api, person, sign_in_as, submit,
                                              wait_until_evaluation_knows)
from tests.integration.portal.staff import FACILITATOR, api_get, error_of, session_today, staff_browser
from tests.processes import ServiceProcess, portal

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
LIKERT = ("work_performance", "methodology", "content_quality", "facilitation", "relevance", "organization")


@pytest.fixture(scope="module")
def notification(stack):
    """A notification API on its own database, and a portal that reaches all three APIs."""
    database = f"test_{stack.unique}_notif"
    api = ServiceProcess("notification", "api", stack.registration.prefix, database, stack.registration.keys).start()
    web = portal(stack.registration.keys, registration=stack.registration, evaluation=stack.evaluation,
                 notification=api).start()
    yield api, web, database
    web.stop()
    api.stop()
    with MongoClient(MONGODB_URI) as client:
        client.drop_database(database)


def delivered_session(stack) -> tuple[str, list[dict]]:
    """A completed session today: two seated, day one marked, both evaluated, tests taken."""
    session_id = session_today(stack)
    people = [enrol_by_api(stack, session_id, person(stack, name)) for name in ("Aïssatou Bah", "Jean Kaboré")]
    day = date.today().isoformat()
    marks = [{"participant_id": people[0]["participant_id"], "status": "present"},
             {"participant_id": people[1]["participant_id"], "status": "late"}]
    facilitator = {"Authorization": f"Bearer {stack.issuer.issue(FACILITATOR, 'facilitator')}"}
    assert httpx.put(f"{stack.registration.url}/sessions/{session_id}/attendance/{day}", json={"marks": marks},
                     headers=facilitator).status_code == 200
    wait_until_evaluation_knows(stack, session_id, 2)
    assert httpx.post(f"{stack.registration.url}/sessions/{session_id}/status", json={"status": "completed"},
                      headers=stack.organizer()).status_code == 200
    for n, someone in enumerate(people):
        token = stack.issuer.issue(someone["participant_id"], "participant", enrollment_id=someone["enrollment_id"],
                                   session_id=session_id)
        answers = [{"item_id": item, "value": 5 - n} for item in LIKERT] + [{"item_id": "recommend", "value": 9}]
        deadline = time.monotonic() + 60
        while True:  # the evaluation opens when its worker has read session.completed
            sent = httpx.post(f"{stack.evaluation.url}/sessions/{session_id}/feedback", json={
                "language": "fr", "answers": answers}, headers={"Authorization": f"Bearer {token}"})
            if sent.status_code in (200, 201) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert sent.status_code in (200, 201), sent.text
        for phase, score in (("pre", 50 + 10 * n), ("post", 80 + 10 * n)):
            assert httpx.post(f"{stack.evaluation.url}/sessions/{session_id}/scores", headers=stack.organizer(),
                              json={"participant_id": someone["participant_id"], "phase": phase,
                                    "score": score}).status_code == 200
    # Scores are facts: the report reads them once the evaluation worker has projected them.
    deadline = time.monotonic() + 60
    while api_get(stack, stack.evaluation, f"/sessions/{session_id}/report")["knowledge_test"][
            "participants_tested"] < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    return session_id, people


def test_attendance_per_day_has_a_chart_with_the_same_figures_in_words_and_a_table(stack):
    session_id = session_today(stack)
    aissatou = enrol_by_api(stack, session_id, person(stack, "Aïssatou Diop"))
    enrol_by_api(stack, session_id, person(stack, "Jean Ouédraogo"))
    facilitator = {"Authorization": f"Bearer {stack.issuer.issue(FACILITATOR, 'facilitator')}"}
    httpx.put(f"{stack.registration.url}/sessions/{session_id}/attendance/{date.today().isoformat()}",
              json={"marks": [{"participant_id": aissatou["participant_id"], "status": "excused"}]}, headers=facilitator)
    with staff_browser(stack.portal, stack, language="en") as client:
        page = client.get(f"/organize/sessions/{session_id}/attendance")
    assert page.status_code == 200
    svg = page.text.split('<svg xmlns="http://www.w3.org/2000/svg" class="chart"', 1)[1].split("</svg>", 1)[0]
    ET.fromstring('<svg xmlns="http://www.w3.org/2000/svg"' + svg + "</svg>")
    assert "0 present, 0 late, 0 absent, 1 excused, 1 not marked; 0% attended." in page.text
    assert "<th scope=\"row\">Aïssatou Diop</th><td>Excused</td>" in page.text


def test_the_session_report_shows_headlines_charts_and_downloads_its_csv(stack):
    session_id, _people = delivered_session(stack)
    with staff_browser(stack.portal, stack) as client:
        page = client.get(f"/organize/sessions/{session_id}/report")
        csv = client.get(f"/organize/sessions/{session_id}/report.csv")
    assert page.status_code == 200
    assert "Tous les participants étaient tout à fait d&#39;accord ou d&#39;accord" in page.text
    assert page.text.count('class="chart"') == 3  # answers per question, attendance, knowledge test
    assert "Réponses par question" in page.text and "Test de connaissances, avant et après" in page.text
    assert "Tous les participants (moyenne) : 55 avant, 85 après (+30)." in page.text
    # Each person's scores, by name (a knowledge test is not anonymous).
    assert "Test de connaissances, personne par personne" in page.text
    assert '<th scope="row">Aïssatou Bah</th><td>50</td><td>80</td><td>+30</td>' in page.text
    assert "knowledge_test_person,{},Aïssatou Bah,gain,30".format(_people[0]["participant_id"]) in csv.text
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert f'filename="report-{session_id}.csv"' in csv.headers["content-disposition"]
    assert csv.text.startswith("dimension,group,section,item_id,label,metric,value")


def test_the_report_across_sessions_takes_the_apis_filters_and_checks_them(stack):
    delivered_session(stack)
    with staff_browser(stack.portal, stack) as client:
        page = client.get("/organize/reports", params={"country": "SN", "sex": "", "period_from": "",
                                                        "period_to": ""})
        wrong = client.get("/organize/reports", params={"period_from": "mai 2026"})
    assert page.status_code == 200 and "Réponses par question" in page.text and "Par pays" in page.text
    assert wrong.status_code == 422 and error_of(wrong, "period_from") == "Indiquez une date comme 2026-05-17"


def test_the_trainer_pool_is_searched_with_its_filters(stack):
    with staff_browser(stack.portal, stack) as client:
        page = client.get("/organize/trainers", params={"language": "fr", "country": "SN", "module": ""})
    assert page.status_code == 200 and "Vivier de formateurs certifiés" in page.text
    assert '<option value="fr" selected>' in page.text
    with staff_browser(stack.portal, stack) as client:
        since = client.get("/organize/trainers", params={"delivered_since": "2026-06-01"})
        wrong = client.get("/organize/trainers", params={"delivered_since": "0"})
    assert since.status_code == 200 and 'name="delivered_since"' in since.text and 'value="2026-06-01"' in since.text
    assert wrong.status_code == 422


def test_a_failed_message_is_sent_again_from_the_log_once(stack, notification):
    api, web, database = notification
    now = datetime.now(timezone.utc)
    planned = PlannedMessage(f"ntf-{stack.unique}", MessageKind.ENROLLMENT_REGISTERED, "par-aminata", "evt-1",
                             "ses-somewhere", "fr", PlanStatus.TO_SEND)
    entry = {**new_entry(planned, now - timedelta(minutes=5)), "status": "failed", "attempts": 3,
             "reason": "550 no such user", "next_attempt_at": None}
    with MongoClient(MONGODB_URI, tz_aware=True) as client:
        client[database].notifications.insert_one(entry)
    with staff_browser(web, stack) as browser:
        log = browser.get("/organize/notifications", params={"status": "failed"})
        assert log.status_code == 200 and "550 no such user" in log.text and "Renvoyer" in log.text
        resent = submit(browser, f"/organize/notifications/{planned.notification_id}/resend",
                        {"back": "/organize/notifications?status=failed"}, log)
        assert resent.status_code == 303
        assert resent.headers["location"] == f"/organize/notifications?status=failed&resent={planned.notification_id}"
        assert "Le message sera renvoyé" in browser.get(resent.headers["location"]).text
        twice = submit(browser, f"/organize/notifications/{planned.notification_id}/resend", {}, log)
    assert twice.status_code == 409 and "Non renvoyé" in twice.text
    status = httpx.get(f"{api.url}/notifications/{planned.notification_id}", headers=stack.organizer()).json()
    assert status["status"] == "planned" and status["history"][-1]["outcome"] == "resend_requested"


def test_the_staff_directory_adds_lists_and_changes_a_person(stack):
    email = f"fatou.{stack.unique}@iom.int"
    fields = {"full_name": "Fatou Sarr", "email": email, "preferred_language": "fr", "role": "organizer",
              "offices": "", "regional": ""}
    with staff_browser(stack.portal, stack) as client:
        form = client.get("/organize/staff/new")
        missing_office = submit(client, "/organize/staff/new", fields, form)
        assert missing_office.status_code == 422 and error_of(missing_office, "offices").startswith(
            "Indiquez le bureau pour lequel")
        added = submit(client, "/organize/staff/new", {**fields, "offices": "RO Dakar\nCO Abidjan"}, form)
        assert added.headers["location"] == "/organize/staff?done=added"
        known = submit(client, "/organize/staff/new", {**fields, "offices": "RO Dakar"}, form)
        assert known.headers["location"] == "/organize/staff?done=known"
        listing = client.get("/organize/staff", params={"role": "organizer"})
        assert "Fatou Sarr" in listing.text and "RO Dakar, CO Abidjan" in listing.text
        [member] = [m for m in api_get(stack, stack.registration, "/staff", limit=200) if m["email"] == email]
        edit = f"/organize/staff/{member['staff_id']}/edit"
        changed = submit(client, edit, {"full_name": "Fatou Sarr Ndiaye", "preferred_language": "en",
                                        "role": "organizer", "offices": "", "regional": "yes", "active": "yes"})
        assert changed.headers["location"] == "/organize/staff?done=changed"
    after = api_get(stack, stack.registration, f"/staff/{member['staff_id']}")
    assert (after["full_name"], after["preferred_language"], after["regional"], after["email"]) == \
        ("Fatou Sarr Ndiaye", "en", True, email)


def test_the_session_form_offers_the_directorys_facilitators_to_tick(stack):
    httpx.post(f"{stack.registration.url}/staff", headers=stack.organizer(), json={
        "full_name": "Kwame Mensah", "email": f"kwame.{stack.unique}@iom.int", "preferred_language": "en",
        "role": "facilitator"})
    with staff_browser(stack.portal, stack) as client:
        form = client.get("/organize/sessions/new")
    assert 'type="checkbox" name="facilitator_ids"' in form.text and "Kwame Mensah" in form.text


def test_the_certification_page_says_why_a_participant_is_not_certified(stack):
    # Issue 14: nobody could see why a participant was not certified. Nobody rated their practice.
    session_id, people = delivered_session(stack)
    with staff_browser(stack.portal, stack) as client:
        roster = client.get(f"/organize/sessions/{session_id}/roster")
        url = f"/organize/sessions/{session_id}/participants/{people[0]['participant_id']}/certification"
        assert f'href="{url}"' in roster.text
        page = client.get(url)
    assert page.status_code == 200
    assert "Non certifié·e" in page.text
    rows = {row.split("</th>")[0].rsplit(">", 1)[-1]: row for row in page.text.split('<tr><th scope="row">')[1:]}
    assert "non remplie" in rows["Retour des pairs sur une animation pratique"]
    assert "aucun pour l'instant" in rows["Retour des pairs sur une animation pratique"]
    assert "non remplie" in rows["Présence"] and "<td>50\u00a0%</td>" in rows["Présence"]  # one day of two marked
    assert ">remplie<" in rows["Post-test"] and "<td>80</td>" in rows["Post-test"]
    assert "<dd>50 sur 100</dd>" in page.text and "<dd>80 sur 100</dd>" in page.text
    assert "<dd>+30 points</dd>" in page.text


def test_a_facilitator_and_the_participant_see_where_they_stand_towards_the_certificate(stack):
    session_id, people = delivered_session(stack)
    someone = people[1]
    with staff_browser(stack.portal, stack, "facilitator") as client:
        sessions = client.get("/facilitate")
        listing = client.get(f"/facilitate/{session_id}/certification")
        page = client.get(f"/facilitate/{session_id}/participants/{someone['participant_id']}/certification")
    assert f'href="/facilitate/{session_id}/certification"' in sessions.text
    assert f'/facilitate/{session_id}/participants/{someone["participant_id"]}/certification' in listing.text
    assert page.status_code == 200 and "Certification de Jean Kaboré" in page.text
    assert "<dd>60 sur 100</dd>" in page.text and "<dd>90 sur 100</dd>" in page.text
    with browser(stack.portal) as client:
        sign_in_as(client, stack, someone)
        mine = client.get(f"/trainings/{session_id}/knowledge")
    assert mine.status_code == 200
    assert "<dd>60 sur 100</dd>" in mine.text and "<dd>+30 points</dd>" in mine.text
    assert "Vers votre certificat" in mine.text and "Post-test" in mine.text


def test_the_organizer_picks_quotes_only_among_consented_comments(stack):
    session_id, people = delivered_session(stack)
    for someone, consent in zip(people, ("named", None)):
        token = stack.issuer.issue(someone["participant_id"], "participant", enrollment_id=someone["enrollment_id"],
                                   session_id=session_id)
        answers = [{"item_id": item, "value": 5} for item in LIKERT] + [
            {"item_id": "recommend", "value": 10}, {"item_id": "comments", "value": f"Bravo {someone['full_name']}"}]
        body = {"language": "fr", "answers": answers, **({"quote_consent": consent} if consent else {})}
        sent = httpx.post(f"{stack.evaluation.url}/sessions/{session_id}/feedback", json=body,
                          headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code in (200, 201), sent.text
    deadline = time.monotonic() + 60
    while not api_get(stack, stack.evaluation, f"/sessions/{session_id}/report")["quotable"] \
            and time.monotonic() < deadline:
        time.sleep(0.3)
    with staff_browser(stack.portal, stack) as client:
        page = client.get(f"/organize/sessions/{session_id}/report")
        assert page.text.count('name="quote"') == 1  # Jean Kaboré did not agree to be quoted
        assert "<q>Bravo Aïssatou Bah</q> — Aïssatou Bah" in page.text
        value = page.text.split('name="quote" value="', 1)[1].split('"', 1)[0]
        saved = submit(client, f"/organize/sessions/{session_id}/quotes", {"quote": value}, page)
        assert saved.status_code == 303 and "saved=quotes" in saved.headers["location"]
        again = client.get(f"/organize/sessions/{session_id}/report?saved=quotes")
    assert "Les citations sont enregistrées." in again.text and f'value="{value}" checked' in again.text
    chosen = api_get(stack, stack.evaluation, f"/sessions/{session_id}/report")["quotes"]
    assert [(q["text"], q["author"]) for q in chosen] == [("Bravo Aïssatou Bah", "Aïssatou Bah")]


def test_the_write_up_is_a_printable_page_in_the_pages_language(stack):
    session_id, _people = delivered_session(stack)
    with staff_browser(stack.portal, stack) as client:
        report = client.get(f"/organize/sessions/{session_id}/report")
        page = client.get("/organize/write-up", params={"session_id": session_id})
        english = client.get("/organize/write-up", params={"session_id": session_id, "lang": "en"})
        nothing = client.get("/organize/write-up")
    assert f'href="/organize/write-up?session_id={session_id}"' in report.text
    assert page.status_code == 200 and "a organisé 1 session de formation des formateurs" in page.text
    assert "pour 2 participants" in page.text and "Tous les participants" in page.text
    assert english.status_code == 200 and "organized 1 session of Training-of-Trainers (ToT)" in english.text
    assert nothing.status_code == 404
