"""The staff pages' CSV downloads through real APIs: each page links its export, the portal passes on
the owning API's CSV as the signed-in person, and the API's refusal stays a refusal."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import MONGODB_URI
from tests.integration.portal.conftest import enrol_by_api, person
from tests.integration.portal.staff import FACILITATOR, session_today, staff_browser

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
NAMES = ("Aïssatou N'Diaye", "João d'Almeida")


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def seated_and_marked(stack) -> tuple[str, list[dict]]:
    session_id = session_today(stack)
    people = [enrol_by_api(stack, session_id, person(stack, name, email=f"p{n}.{stack.unique}@example.org"))
              for n, name in enumerate(NAMES)]
    facilitator = {"Authorization": f"Bearer {stack.issuer.issue(FACILITATOR, 'facilitator')}"}
    marks = [{"participant_id": people[0]["participant_id"], "status": "present"},
             {"participant_id": people[1]["participant_id"], "status": "excused"}]
    assert httpx.put(f"{stack.registration.url}/sessions/{session_id}/attendance/{date.today().isoformat()}",
                     json={"marks": marks}, headers=facilitator).status_code == 200
    return session_id, people


def test_the_organizer_downloads_the_roster_and_the_attendance_sheet_from_their_pages(stack):
    session_id, _ = seated_and_marked(stack)
    with staff_browser(stack.portal, stack) as client:
        roster_page = client.get(f"/organize/sessions/{session_id}/roster")
        attendance_page = client.get(f"/organize/sessions/{session_id}/attendance")
        roster = read_csv(client.get(f"/organize/sessions/{session_id}/roster.csv"))
        attendance = client.get(f"/organize/sessions/{session_id}/attendance.csv")
    assert f'href="/organize/sessions/{session_id}/roster.csv" download>Télécharger la liste des participants (CSV)' \
        in roster_page.text
    assert f'href="/organize/sessions/{session_id}/attendance.csv" download>Télécharger la feuille de présence' \
        in attendance_page.text
    assert [(r["place"], r["full_name"]) for r in roster] == [("1", NAMES[0]), ("2", NAMES[1])]
    assert f'filename="attendance-{session_id}.csv"' in attendance.headers["content-disposition"]
    today = date.today().isoformat()
    assert [(r["day"], r["full_name"], r["status"]) for r in read_csv(attendance)][:2] == [
        (today, NAMES[0], "present"), (today, NAMES[1], "excused")]


def test_the_facilitator_downloads_their_session_s_sheet_and_not_another_s(stack):
    mine, _ = seated_and_marked(stack)
    theirs = session_today(stack, facilitator_ids=["stf-someone-else"])
    with staff_browser(stack.portal, stack, "facilitator") as client:
        sheet = client.get(f"/facilitate/{mine}/attendance/{date.today().isoformat()}")
        rows = read_csv(client.get(f"/facilitate/{mine}/attendance.csv"))
        refused = client.get(f"/facilitate/{theirs}/attendance.csv")
    assert f'href="/facilitate/{mine}/attendance.csv" download>Télécharger la feuille de présence (CSV)' in sheet.text
    assert {r["full_name"] for r in rows} == set(NAMES)
    assert refused.status_code == 403 and not refused.headers["content-type"].startswith("text/csv")


def test_the_reports_and_trainers_pages_link_their_csv_with_the_filters_shown(stack):
    with MongoClient(MONGODB_URI) as client:  # certified trainers, as the evaluation worker projects them
        client[f"test_{stack.unique}_eval"]["trainers"].insert_many([
            {"_id": f"trn-csv-{n}-{stack.unique}", "participant_id": f"par-csv-{n}-{stack.unique}", "full_name": name,
             "country": "SN" if n == 0 else "BR", "languages": ["fr"] if n == 0 else ["pt"],
             "modules": ["migration-governance"], "session_id": "ses-csv", "certified_at": "2026-05-20T12:00:00+00:00",
             "certificate_reference": f"EMM-CSV-{n}-{stack.unique}"} for n, name in enumerate(NAMES)])
    with staff_browser(stack.portal, stack) as client:
        reports_page = client.get("/organize/reports", params={"country": "SN"})
        reports = read_csv(client.get("/organize/reports.csv", params={"country": "SN"}))
        wrong = client.get("/organize/reports.csv", params={"period_from": "mai 2026"})
        trainers_page = client.get("/organize/trainers", params={"language": "pt"})
        trainers = read_csv(client.get("/organize/trainers.csv", params={"language": "pt"}))
    assert 'href="/organize/reports.csv?country=SN" download>Télécharger ce rapport (CSV)' in reports_page.text
    assert reports[0]["dimension"] == "all" and {r["section"] for r in reports} >= {"responses", "attendance"}
    assert wrong.status_code == 422 and "text/html" in wrong.headers["content-type"]  # the page says which filter
    assert 'href="/organize/trainers.csv?language=pt" download>Télécharger tous les formateurs trouvés (CSV)' \
        in trainers_page.text
    assert [(r["full_name"], r["country"]) for r in trainers] == [(NAMES[1], "BR")]
