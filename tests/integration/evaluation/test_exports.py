"""Evaluation's CSV exports through the real API, worker, broker and database: the report across
sessions with its filters and breakdowns, the session report with each person's scores, and the whole
trainer pool; read back with Python's csv module, names with accents and apostrophes intact."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import eventually
from tests.integration.evaluation import registration_events as ev
from tests.integration.evaluation.test_api import publish

pytestmark = pytest.mark.integration

NAMES = {1: "Aïssatou N'Diaye", 2: "João d'Almeida"}
PAGE = 50  # the JSON list's default page


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark: Excel would garble accents"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_the_report_across_sessions_csv_keeps_the_filters_breakdowns_and_the_sessions_counted(
        publisher, worker, client, database, issue):
    await publish(publisher, ev.scheduled(ev.session("ses-x-sn")), ev.scheduled(ev.session("ses-x-ci", country="CI",
                                                                                            office="CO Abidjan")),
                  *(ev.registered("ses-x-sn", n, full_name=NAMES[n]) for n in (1, 2)), ev.registered("ses-x-ci", 3),
                  ev.feedback("ses-x-sn", 1), ev.feedback("ses-x-sn", 2, 4), ev.feedback("ses-x-ci", 3, 2),
                  ev.knowledge_score("ses-x-sn", 1, 55, "pre"), ev.knowledge_score("ses-x-sn", 1, 85))
    regional = issue("organizer")

    async def all_answered():  # the session report is a 404 until the worker has projected the session
        counted = await client.get("/reports", headers=regional)
        report = await client.get("/sessions/ses-x-sn/report", headers=regional)
        if counted.status_code != 200 or report.status_code != 200:
            return False
        people = report.json()["knowledge_test"]["by_person"]
        return counted.json()["responses"] == 3 and people and people[0]["post"] == 85
    await eventually(all_answered)

    everything = read_csv(await client.get("/reports.csv", headers=regional))
    assert {r["item_id"] for r in everything if r["section"] == "sessions"} == {"ses-x-sn", "ses-x-ci"}
    assert {(r["dimension"], r["group"]) for r in everything} >= {("all", "all"), ("country", "SN"), ("country", "CI"),
                                                                  ("office", "IOM RO Dakar"), ("month", "2026-05")}
    senegal = read_csv(await client.get("/reports.csv", params={"country": "SN", "language": "fr"}, headers=regional))
    assert [r["item_id"] for r in senegal if r["section"] == "sessions"] == ["ses-x-sn"]
    responses = next(r for r in senegal if r["dimension"] == "all" and r["metric"] == "responses")
    assert responses["value"] == "2"
    assert next(r for r in senegal if r["item_id"] == "methodology")["label"] == (
        "La méthodologie de la formation était efficace.")
    # An organizer of another office sees none of these sessions; a facilitator no report across sessions.
    other = read_csv(await client.get("/reports.csv", headers=issue("organizer", offices=["CO Lagos"])))
    assert [r for r in other if r["section"] == "sessions"] == []
    assert (await client.get("/reports.csv", headers=issue("facilitator", "fac-1"))).status_code == 403
    bad = await client.get("/reports.csv", params={"sex": "x" * 65}, headers=regional)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "sex"]

    person = [r for r in read_csv(await client.get("/sessions/ses-x-sn/report.csv", headers=regional))
              if r["section"] == "knowledge_test_person"]
    assert {(r["label"], r["metric"], r["value"]) for r in person} == {
        (NAMES[1], "pre", "55"), (NAMES[1], "post", "85"), (NAMES[1], "gain", "30")}
    assert (await client.get("/sessions/ses-x-sn/report.csv",
                             headers=issue("facilitator", "fac-other"))).status_code == 403


async def test_the_trainer_pool_csv_holds_every_matching_trainer_not_one_page(publisher, worker, client, database,
                                                                              issue):
    await publish(publisher, ev.scheduled(ev.session("ses-p")), *ev.certifiable("ses-p", 1, full_name=NAMES[1]),
                  *ev.certifiable("ses-p", 2, full_name=NAMES[2]))
    await eventually(lambda: database["trainees"].count_documents({"session_id": "ses-p", "ratings": {"$ne": "{}"}}))
    await publish(publisher, ev.completed("ses-p"))
    staff = issue("organizer")

    async def both_certified():
        return len((await client.get("/trainers", headers=staff)).json()) == 2
    await eventually(both_certified)
    # More trainers than a page, as the worker projects them (the decision itself is tested above).
    await database["trainers"].insert_many([
        {"_id": f"trn-bulk-{n:03}", "participant_id": f"par-bulk-{n:03}", "full_name": f"Trainer {n:03}",
         "country": "CI", "languages": ["fr"], "modules": ["border-management"], "session_id": "ses-bulk",
         "certified_at": "2026-05-20T12:00:00+00:00", "certificate_reference": f"EMM-BULK-{n:03}"}
        for n in range(PAGE + 5)])

    everyone = read_csv(await client.get("/trainers.csv", headers=staff))
    assert len(everyone) == PAGE + 7 and len((await client.get("/trainers", headers=staff)).json()) == PAGE
    certified = read_csv(await client.get("/trainers.csv", params={"module": "migration-governance"}, headers=staff))
    assert [(r["full_name"], r["country"], r["status"]) for r in certified] == [
        (NAMES[1], "SN", "active"), (NAMES[2], "CI", "active")]
    assert certified[0]["certificate_reference"] and certified[0]["modules"] == "migration-governance"
    assert len(read_csv(await client.get("/trainers.csv", params={"country": "CI"}, headers=staff))) == PAGE + 6
    # Nobody here has held a government training: the pool's own filter holds for the CSV too.
    assert read_csv(await client.get("/trainers.csv", params={"delivered_since": "2026-01-01"}, headers=staff)) == []
    assert (await client.get("/trainers.csv", headers=issue("facilitator", "fac-1"))).status_code == 403
    assert (await client.get("/trainers.csv", headers=issue("participant", "par-1"))).status_code == 403
