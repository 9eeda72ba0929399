"""Registration's CSV exports (roster, attendance sheet) through the real API: read back with Python's
csv module as a spreadsheet would open them, names with accents and apostrophes intact."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.registration.test_registration_api import person, schedule

pytestmark = pytest.mark.integration

NAMES = ["Aïssatou N'Diaye", "João d'Almeida", "Zoë Gonçalves, Jr."]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark: Excel would garble accents"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def enroll_three(client, issue, unique) -> tuple[str, list[dict]]:
    session_id = await schedule(client, issue, capacity=2)
    organizer = issue("organizer")
    made = []
    for n, name in enumerate(NAMES):
        response = await client.post(f"/sessions/{session_id}/enrollments", json=person(n, unique, full_name=name),
                                     headers=organizer)
        assert response.status_code == 201, response.text
        made.append(response.json()["enrollment"])
    return session_id, made


async def test_the_roster_csv_lists_seats_then_the_waitlist_and_names_survive_a_round_trip(client, issue, unique):
    session_id, made = await enroll_three(client, issue, unique)
    exported = await client.get(f"/sessions/{session_id}/roster.csv", headers=issue("facilitator", "par-facilitator"))
    rows = read_csv(exported)
    assert f'filename="roster-{session_id}.csv"' in exported.headers["content-disposition"]
    assert [(r["status"], r["place"], r["full_name"]) for r in rows] == [
        ("registered", "1", NAMES[0]), ("registered", "2", NAMES[1]), ("waitlisted", "1", NAMES[2])]
    assert [r["participant_id"] for r in rows] == [e["participant_id"] for e in made]
    assert rows[0]["organization"] == "IOM" and rows[0]["country"] == "SN" and rows[0]["registered_at"]


async def test_the_attendance_csv_has_one_row_per_person_per_day_with_who_marked_it(client, issue, unique):
    session_id, made = await enroll_three(client, issue, unique)
    first, second = made[0]["participant_id"], made[1]["participant_id"]
    facilitator = issue("facilitator", "par-facilitator")
    marks = {"marks": [{"participant_id": first, "status": "present"},
                       {"participant_id": second, "status": "absent", "note": "malade, d'après l'équipe"}]}
    assert (await client.put(f"/sessions/{session_id}/attendance/2026-05-19", json=marks,
                             headers=facilitator)).status_code == 200
    rows = read_csv(await client.get(f"/sessions/{session_id}/attendance.csv", headers=issue("organizer")))
    assert [(r["day"], r["full_name"], r["status"], r["recorded_by"]) for r in rows] == [
        ("2026-05-19", NAMES[0], "present", "par-facilitator"), ("2026-05-19", NAMES[1], "absent", "par-facilitator"),
        ("2026-05-20", NAMES[0], "", ""), ("2026-05-20", NAMES[1], "", "")]
    assert rows[1]["note"] == "malade, d'après l'équipe" and rows[0]["recorded_at"].startswith("20")


async def test_the_exports_refuse_another_session_s_facilitator_and_another_office(client, issue, unique):
    session_id, _ = await enroll_three(client, issue, unique)
    for path in ("roster.csv", "attendance.csv"):
        other = await client.get(f"/sessions/{session_id}/{path}", headers=issue("facilitator", "par-someone-else"))
        assert other.status_code == 403, other.text
        office = await client.get(f"/sessions/{session_id}/{path}", headers=issue("organizer", offices=["CO Lagos"]))
        assert office.status_code == 403, office.text
        assert (await client.get(f"/sessions/{session_id}/{path}")).status_code == 401
        assert (await client.get(f"/sessions/ses-nobody-{unique}/{path}", headers=issue("organizer"))).status_code == 404
