"""The seed's Dakar Training-of-Trainers end to end: the demo's scenario (deploy/local/dakar_scenario.py)
through the HTTP APIs of all six processes (registration API and worker, evaluation API and worker,
notification API and worker) on the real broker, database and SMTP capture, then every
projection, every report figure and every email checked against values worked out by hand.

Nobody calls a status endpoint: registration's lifecycle clock moves both sessions, on a
programme time that starts on 14 May 2026 at noon and runs 2,400 times faster than real time (a
day lasts 36 s): each session starts at 08:00 on its first day and completes at 18:00 on its last
(Dakar time), and its evaluation closes two days later. The scenario waits for each move, and
takes each day's attendance once that day has come.

Who gets which email is derived from the notification service's planning rules
(emm_notification/domain/messages.py), not from what it happened to send:

- enrollment.registered -> enrollment_registered, with a calendar REQUEST (`_enrollment_registered`)
- enrollment.waitlisted -> enrollment_waitlisted, no calendar
- enrollment.promoted -> enrollment_promoted, calendar REQUEST
- enrollment.cancelled of a seat -> enrollment_cancelled, calendar CANCEL
- session.completed -> evaluation_invitation to everyone registered at that moment
- trainer.certified -> trainer_certified to the new trainer
- evaluation.closed (after the clock's session.evaluation_closed) -> report_ready to the
  session's facilitator, who is in the staff directory (her staff.updated made her a contact), in
  French, with the response rate and the headlines; the organizer's token is nobody in the
  directory, so nothing is planned (or left waiting) for it
- attendance.recorded absent (Awa Sow, 20 May) -> certification.out_of_reach from evaluation ->
  certification_out_of_reach to her (1 of 2 days; the rule needs 80%); and, once 20 May is over,
  one absence_digest to the facilitator listing her
- session.updated of the status only, session.scheduled, peer feedback -> nothing
- reminders, on the programme's time: the day-before session reminder (from 08:00 the day
  before) to everyone registered then, with the calendar REQUEST: all enrollments and the
  cancellation are done two programme days before; the evaluation reminder (12 h before the
  evaluation closes) goes to nobody, since everyone answered; the Abidjan training is months ahead.

Every email to a participant carries their own portal link (a participant-sign-in link for that
session; the evaluation invitation's leads to the evaluation page), and a participant signs in
with the one in their confirmation.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import icalendar
import pytest
from motor.motor_asyncio import AsyncIOMotorClient

from deploy.local.dakar_scenario import FACILITATOR, IBM_MANAGERS, QUOTE, SENIOR_STAFF, DakarScenario, Outcome
from emm_common.auth import TokenIssuer, TokenVerifier
from emm_common.paging import MAX_LIMIT, next_link
from emm_common.rebuild import snapshot_records
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, MAIL_READER, MONGODB_URI, SMTP_PORT, eventually
from tests.processes import ServiceProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]

log = logging.getLogger(__name__)

# Generous: a slow shared 2-core machine where FerretDB is the bottleneck.
WAIT = 600

CLOCK_SPEED = 2400  # a programme day lasts 36 s
PROGRAMME_START = "2026-05-14T12:00:00+00:00"


def clock_env(origin_at: datetime) -> dict[str, str]:
    """The programme's time for every process of the test (the same mapping in each)."""
    return {"EMM_CLOCK_SPEED": str(CLOCK_SPEED), "EMM_CLOCK_ORIGIN": PROGRAMME_START,
            "EMM_CLOCK_ORIGIN_AT": origin_at.isoformat(), "REGISTRATION_CLOCK_POLL_SECONDS": "0.5",
            "REGISTRATION_EVALUATION_DAYS": "2", "NOTIFICATION_EVALUATION_REMINDER_LEAD_HOURS": "12"}

PORTAL = "https://emm.example.org"
NOTIFICATION_ENV = {
    "NOTIFICATION_SMTP_PORT": str(SMTP_PORT), "EMM_PUBLIC_BASE_URL": PORTAL,
    "NOTIFICATION_DELIVERY_POLL_SECONDS": "0.3", "NOTIFICATION_SCHEDULER_POLL_SECONDS": "2",
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.5", "NOTIFICATION_RETRY_MAX_SECONDS": "2",
    "NOTIFICATION_RETRY_MAX_ATTEMPTS": "30",
}

# -- the story, by name ----------------------------------------------------------------------------

SENIOR = [p[0] for p in SENIOR_STAFF]
IBM = [p[0] for p in IBM_MANAGERS]
LANGUAGE = {p[0]: p[2] for p in SENIOR_STAFF + IBM_MANAGERS}
COUNTRY = {p[0]: p[1] for p in SENIOR_STAFF + IBM_MANAGERS}
LANGUAGE = {p[0]: p[2] for p in SENIOR_STAFF + IBM_MANAGERS}
CANCELLED = "Ibrahim Sanogo"
PROMOTED = "Chidi Nwosu"
STILL_WAITING = "Rokia Dembélé"
ABSENT_ON_DAY_2 = "Awa Sow"
GOVERNMENT_TRAINERS = ["Aminata Diallo", "Chidi Nwosu"]

ROSTER_1 = SENIOR
# 14 enrolled for 12 seats: Chidi and Rokia wait; Ibrahim cancels, Chidi gets the seat (seated last).
ROSTER_2 = ["Awa Sow", "Koffi Mensah", "Adjoa Asante", "Ngozi Eze", "Ousmane Diop", "Aïcha Touré",
            "Samuel Boateng", "Mamadou Keïta", "Hawa Coulibaly", "Yaw Owusu", "Fanta Konaté", "Chidi Nwosu"]
CERTIFIED = sorted(set(ROSTER_1 + ROSTER_2) - {ABSENT_ON_DAY_2})
MODULES_1 = ["migration-governance", "labour-mobility", "migration-and-development"]
MODULES_2 = ["border-management", "migration-governance"]

HEADLINES = {
    "en": [
        "All participants strongly agreed or agreed that the ToT will help improve their present work performance.",
        "All participants strongly agreed or agreed that the training methodology was effective "
        "(average {mean} out of 5).",
        "All participants strongly agreed or agreed that the content of the training was of high quality "
        "(average {mean} out of 5).",
        "The ToT has a Net Promoter Score of +100: 100% of participants rated their likelihood to recommend it "
        "9 or 10 out of 10.",
    ],
    "fr": [
        "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que la formation des formateurs "
        "les aidera à améliorer leurs performances professionnelles actuelles.",
        "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que la méthodologie de la "
        "formation était efficace (moyenne de {mean} sur 5).",
        "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que le contenu de la formation "
        "était de grande qualité (moyenne de {mean} sur 5).",
        "La formation des formateurs obtient un Net Promoter Score de +100\u00a0: 100\u00a0% des participants ont "
        "noté 9 ou 10 sur 10 la probabilité de la recommander.",
    ],
}

SUBJECTS = {
    "enrollment_registered": {"en": "Your place is confirmed: {title}", "fr": "Votre place est confirmée : {title}"},
    "enrollment_waitlisted": {"en": "You are on the waiting list: {title}",
                              "fr": "Vous êtes sur la liste d'attente : {title}"},
    "enrollment_promoted": {"en": "Good news, a place is now yours: {title}",
                            "fr": "Bonne nouvelle, une place vous est attribuée : {title}"},
    "enrollment_cancelled": {"en": "Your enrollment is cancelled: {title}",
                             "fr": "Votre inscription est annulée : {title}"},
    "evaluation_invitation": {"en": "Your feedback on {title}", "fr": "Votre avis sur {title}"},
    "session_reminder": {"en": "Reminder: {title} starts on {start_en}", "fr": "Rappel : {title} commence le {start_fr}"},
    "certification_out_of_reach": {"en": "Your attendance and your certification: {title}",
                                   "fr": "Votre présence et votre certification : {title}"},
    "trainer_certified": {"en": "Congratulations, you are now a certified EMM2.0 trainer",
                          "fr": "Félicitations, vous êtes désormais formateur·rice EMM2.0 certifié·e"},
}


def expected_emails() -> dict[tuple[str, str], str | None]:
    """(kind, person) -> the calendar METHOD attached (None: no calendar), per the planning rules above."""
    expected: dict[tuple[str, str], str | None] = {}
    for name in SENIOR + IBM[:12]:  # seats given at enrollment
        expected["enrollment_registered", name] = "REQUEST"
    for name in IBM[12:]:
        expected["enrollment_waitlisted", name] = None
    expected["enrollment_cancelled", CANCELLED] = "CANCEL"
    expected["enrollment_promoted", PROMOTED] = "REQUEST"
    for name in ROSTER_1 + ROSTER_2:  # registered the day before, and when the session completed
        expected["session_reminder", name] = "REQUEST"
        expected["evaluation_invitation", name] = None
    for name in CERTIFIED:
        expected["trainer_certified", name] = None
    expected["certification_out_of_reach", ABSENT_ON_DAY_2] = None
    return expected


# -- the processes -----------------------------------------------------------------------------------

@dataclass
class Services:
    registration: ServiceProcess
    registration_worker: ServiceProcess
    evaluation: ServiceProcess
    evaluation_worker: ServiceProcess
    notification: ServiceProcess
    notification_worker: ServiceProcess


@pytest.fixture
async def services(topic_prefix, unique, keys):
    """All five processes on this test's topics, with their own databases (dropped afterwards)."""
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    databases = {name: f"test_{unique}_{name}" for name in ("registration", "evaluation", "notification")}
    clock = clock_env(datetime.now(timezone.utc))
    running = Services(
        registration=ServiceProcess("registration", "api", topic_prefix, databases["registration"], keys, env=clock),
        registration_worker=ServiceProcess("registration", "worker", topic_prefix, databases["registration"], keys,
                                           env=clock),
        evaluation=ServiceProcess("evaluation", "api", topic_prefix, databases["evaluation"], keys),
        evaluation_worker=ServiceProcess("evaluation", "worker", topic_prefix, databases["evaluation"], keys),
        notification=ServiceProcess("notification", "api", topic_prefix, databases["notification"], keys),
        notification_worker=ServiceProcess("notification", "worker", topic_prefix, databases["notification"], keys,
                                           env={**NOTIFICATION_ENV, **clock}))
    processes = list(vars(running).values())
    try:
        for process in processes:
            process.start(wait=False)
        for process in processes:
            await asyncio.to_thread(process.wait_until_answering, None, 120)
        yield running
    finally:
        for process in processes:
            process.stop()
        client = AsyncIOMotorClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
        for name in databases.values():
            await client.drop_database(name)
        client.close()


# -- the test ----------------------------------------------------------------------------------------

async def test_the_dakar_tot_from_scheduling_to_a_government_training_by_two_new_trainers(services, keys, unique,
                                                                                         issue, topic_prefix):
    scenario = DakarScenario(services.registration.url, services.evaluation.url,
                             TokenIssuer((keys / "jwt.pem").read_bytes()), suffix=f"-{unique}", say=log.info,
                             timeout=WAIT, clocked=True)
    outcome = await asyncio.to_thread(scenario.run)
    assert outcome is not None
    assert set(outcome.people) == set(SENIOR + IBM)
    organizer = issue("organizer", "usr-e2e")
    ids = Ids(scenario, outcome)

    async with httpx.AsyncClient(base_url=services.registration.url, headers=organizer, timeout=60) as registration:
        await check_registration(registration, ids)
    async with httpx.AsyncClient(base_url=services.evaluation.url, headers=organizer, timeout=60) as evaluation:
        pool = await check_evaluation(evaluation, ids)
    verifier = TokenVerifier((keys / "jwt.pub.pem").read_bytes())
    async with httpx.AsyncClient(base_url=services.notification.url, headers=organizer, timeout=60) as notification:
        messages = await check_notification(notification, ids, pool, verifier)
    async with httpx.AsyncClient(base_url=services.registration.url, timeout=60) as registration:
        await check_signing_in_from_an_email(registration, ids, messages)
    await check_every_event_published_once(topic_prefix)
    # What a newcomer opens first: each API's docs.
    for process in (services.registration, services.evaluation, services.notification):
        assert httpx.get(f"{process.url}/docs", timeout=30).status_code == 200

    # And a second run adds nothing: the sessions exist already.
    assert await asyncio.to_thread(scenario.run) is None


async def check_every_event_published_once(topic_prefix: str) -> None:
    """No process was killed, so no event may be on its topic twice (a duplicate is allowed only
    after a crash between publishing and removing it from the outbox)."""
    topics = sorted(topic_name(t, topic_prefix) for t in all_topics())
    copies = Counter([(record.topic, dict(record.headers).get("ce_id"))
                      async for record in snapshot_records(KAFKA, topics)])
    assert sum(copies.values()) > 200  # 215 in a run of the scenario
    assert [key for key, count in copies.items() if count > 1] == []


class Ids:
    """The ids of this run (suffixed), by name."""

    def __init__(self, scenario: DakarScenario, outcome: Outcome) -> None:
        self.session_1, self.session_2 = (s["session_id"] for s in scenario.sessions)
        self.government = outcome.government_training["session_id"]
        self.facilitator = scenario.facilitator_id
        self.facilitator_email = scenario.email_of(FACILITATOR["full_name"])
        self.titles = {s["session_id"]: s["title"] for s in scenario.sessions}
        self.sessions = {s["session_id"]: s for s in scenario.sessions}
        self.pid = {name: person.participant_id for name, person in outcome.people.items()}
        self.email = {name: person.email for name, person in outcome.people.items()}
        self.session_of = {name: person.session_id for name, person in outcome.people.items()}
        self.name_of = {pid: name for name, pid in self.pid.items()}


# -- registration -------------------------------------------------------------------------------------

async def check_registration(client: httpx.AsyncClient, ids: Ids) -> None:
    """Sessions (seats, waitlist), rosters, attendance sheets, a few people's histories."""
    async def get(path: str, **kwargs):
        response = await client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    first, second, government = [await get(f"/sessions/{sid}") for sid in (ids.session_1, ids.session_2,
                                                                             ids.government)]
    assert {k: first[k] for k in ("seats_taken", "seats_left", "waitlist_length")} == \
        {"seats_taken": 8, "seats_left": 2, "waitlist_length": 0}
    assert {k: second[k] for k in ("seats_taken", "seats_left", "waitlist_length")} == \
        {"seats_taken": 12, "seats_left": 0, "waitlist_length": 1}
    assert {k: government[k] for k in ("seats_taken", "seats_left", "waitlist_length")} == \
        {"seats_taken": 0, "seats_left": 25, "waitlist_length": 0}
    for view, days in ((first, ["2026-05-17", "2026-05-18"]), (second, ["2026-05-19", "2026-05-20"])):
        posted = ids.sessions[view["session"]["session_id"]]
        assert view["session"] == {**posted, "programme": "EMM2.0", "days": days, "status": "completed",
                                   "sequence": 2}  # scheduled 0, in_progress 1, completed 2
    assert government["session"]["status"] == "scheduled"
    assert government["session"]["kind"] == "government_delivery"
    assert government["session"]["facilitator_ids"] == [ids.pid[n] for n in GOVERNMENT_TRAINERS]
    listed = await get("/sessions")
    assert [s["session"]["session_id"] for s in listed] == [ids.session_1, ids.session_2, ids.government]

    roster_1 = await get(f"/sessions/{ids.session_1}/roster")
    assert [e["full_name"] for e in roster_1["registered"]] == ROSTER_1 and roster_1["waitlist"] == []
    roster_2 = await get(f"/sessions/{ids.session_2}/roster")
    assert [e["full_name"] for e in roster_2["registered"]] == ROSTER_2
    assert [(e["full_name"], e["status"], e["waitlist_position"]) for e in roster_2["waitlist"]] == \
        [(STILL_WAITING, "waitlisted", 1)]
    promoted = roster_2["registered"][-1]
    assert promoted["promoted_at"] is not None and promoted["waitlisted_at"] is not None
    assert all(e["promoted_at"] is None for e in roster_1["registered"] + roster_2["registered"][:-1])
    assert {e["enrolled_by"] for e in roster_1["registered"] + roster_2["registered"]} == {"organizer"}

    everyone_present = {"present": 8, "late": 0, "absent": 0, "excused": 0}
    sheet_1 = await get(f"/sessions/{ids.session_1}/attendance")
    assert sheet_1["days"] == ["2026-05-17", "2026-05-18"]
    assert {day: {ids.name_of[pid]: mark["status"] for pid, mark in marks.items()}
            for day, marks in sheet_1["sheet"].items()} == {day: dict.fromkeys(ROSTER_1, "present")
                                                            for day in sheet_1["days"]}
    assert sheet_1["day_summary"] == {"2026-05-17": everyone_present, "2026-05-18": everyone_present}
    assert sheet_1["participant_rates"] == {ids.pid[n]: 1.0 for n in ROSTER_1}
    assert sheet_1["session_rate"] == 1.0

    sheet_2 = await get(f"/sessions/{ids.session_2}/attendance")
    assert sheet_2["days"] == ["2026-05-19", "2026-05-20"]
    assert {day: {ids.name_of[pid]: mark["status"] for pid, mark in marks.items()}
            for day, marks in sheet_2["sheet"].items()} == {
        "2026-05-19": dict.fromkeys(ROSTER_2, "present"),
        "2026-05-20": {**dict.fromkeys(ROSTER_2, "present"), ABSENT_ON_DAY_2: "absent"}}
    assert {mark["recorded_by"] for marks in sheet_2["sheet"].values() for mark in marks.values()} == {ids.facilitator}
    assert sheet_2["day_summary"] == {"2026-05-19": {"present": 12, "late": 0, "absent": 0, "excused": 0},
                                      "2026-05-20": {"present": 11, "late": 0, "absent": 1, "excused": 0}}
    assert sheet_2["participant_rates"] == {ids.pid[n]: 0.5 if n == ABSENT_ON_DAY_2 else 1.0 for n in ROSTER_2}
    assert sheet_2["session_rate"] == pytest.approx(23 / 24)

    async def history(name: str) -> list[tuple[str, str, int | None]]:
        return [(h["session"]["session_id"], h["enrollment"]["status"], h["enrollment"]["waitlist_position"])
                for h in await get(f"/participants/{ids.pid[name]}/history")]

    assert await history("Aminata Diallo") == [(ids.session_1, "registered", None)]
    assert await history(ABSENT_ON_DAY_2) == [(ids.session_2, "registered", None)]
    assert await history(CANCELLED) == [(ids.session_2, "cancelled", None)]
    assert await history(PROMOTED) == [(ids.session_2, "registered", None)]  # facilitating is not enrolling
    assert await history(STILL_WAITING) == [(ids.session_2, "waitlisted", 1)]


# -- evaluation -----------------------------------------------------------------------------------------

def expected_report(session_id: str, language: str, texts: dict[str, str], *, registered: int,
                    attendance: dict, agreeing: int, mean_top: float, mean_recommend: float) -> dict:
    """A session's report where `agreeing` respondents (every third from the first) answered 4 and the
    others 5 on the first four items, everyone 4 on relevance and organization, and 9 (agreeing) or
    10 (the others) on the recommendation; the first respondent, anonymous, left the seed's quote."""
    strongly = registered - agreeing

    def likert(item: str, counts: dict[int, int], mean: float) -> dict:
        return {"item_id": item, "text": texts[item], "answered": registered,
                "counts": {str(level): counts.get(level, 0) for level in range(1, 6)}, "agree_rate": 1.0,
                "mean": mean}

    top = [likert(item, {4: agreeing, 5: strongly}, mean_top)
           for item in ("work_performance", "methodology", "content_quality", "facilitation")]
    fours = [likert(item, {4: registered}, 4.0) for item in ("relevance", "organization")]
    decimal = f"{mean_top:.2f}" if language == "en" else f"{mean_top:.2f}".replace(".", ",")
    return {
        "session_id": session_id, "questionnaire_id": "tot-default", "questionnaire_version": 1,
        "language": language, "registered": registered, "responses": registered, "response_rate": 1.0,
        "attendance": attendance,
        "knowledge_test": {"participants_tested": 0, "mean_pre": None, "mean_post": None, "mean_gain": None,
                           "passed": 0, "pass_rate": None, "pass_mark": 70.0, "by_person": []},
        "ratings": {
            "likert": top + fours,
            "scales": [{"item_id": "recommend", "text": texts["recommend"], "answered": registered,
                        "promoters": registered, "passives": 0, "detractors": 0, "promoter_rate": 1.0,
                        "detractor_rate": 0.0, "nps": 100, "mean": mean_recommend}],
            "choices": []},
        "headlines": [line.format(mean=decimal) for line in HEADLINES[language]],
        "comments": [{"item_id": "comments", "text": QUOTE, "author": None}],
        "quotes": [], "quotable": [],  # the quote's author gave no consent to be quoted
    }


def csv_cells(report: dict) -> dict[tuple[str, str, str], str]:
    """What the CSV export must hold for a session report: (section, item_id, metric) -> value."""
    def cell(value) -> str:
        return "" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    def rate(value) -> str:  # a fraction, written as the JSON number is (not rounded like a mean)
        return "" if value is None else repr(value)

    cells = {("responses", "", "registered"): cell(report["registered"]),
             ("responses", "", "responses"): cell(report["responses"]),
             ("responses", "", "response_rate"): rate(report["response_rate"]),
             ("attendance", "", "rate"): rate(report["attendance"]["rate"])}
    for day in report["attendance"]["by_day"]:
        cells["attendance", day["day"], "attended"] = cell(day["attended"])
        cells["attendance", day["day"], "rate"] = rate(day["rate"])
    for item in report["ratings"]["likert"]:
        for level, count in item["counts"].items():
            cells["likert5", item["item_id"], f"level_{level}"] = cell(count)
        for metric in ("answered", "agree_rate", "mean"):
            cells["likert5", item["item_id"], metric] = (rate if metric == "agree_rate" else cell)(item[metric])
    for item in report["ratings"]["scales"]:
        for metric in ("answered", "promoters", "passives", "detractors", "nps", "mean"):
            cells["scale0_10", item["item_id"], metric] = cell(item[metric])
    for metric, value in report["knowledge_test"].items():
        if metric == "by_person":  # each person's rows: section knowledge_test_person, none here (no test taken)
            continue
        cells["knowledge_test", "", metric] = (rate if metric.endswith("_rate") else cell)(value)
    return cells


async def check_evaluation(client: httpx.AsyncClient, ids: Ids) -> list[dict]:
    """The reports of both sessions, in English and French, as JSON and CSV; the aggregate of the two;
    the trainer pool once settled (returned)."""
    async def get(path: str, **params):
        response = await client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        return response

    questionnaire = (await get("/questionnaires/default")).json()
    texts = {language: {item["item_id"]: item["text"][language] for item in questionnaire["items"]}
             for language in ("en", "fr")}
    attendance_1 = {"rate": 1.0, "by_day": [{"day": "2026-05-17", "attended": 8, "rate": 1.0},
                                            {"day": "2026-05-18", "attended": 8, "rate": 1.0}]}
    # 23 of 24 participant-days; 11 of 12 on the second day (rates are fractions, unrounded).
    attendance_2 = {"rate": 23 / 24, "by_day": [{"day": "2026-05-19", "attended": 12, "rate": 1.0},
                                                {"day": "2026-05-20", "attended": 11, "rate": 11 / 12}]}
    for language in ("en", "fr"):
        # Session 1: positions 0, 3, 6 agree (4), five strongly agree: (3*4 + 5*5) / 8 = 4.625; (3*9 + 5*10) / 8 = 9.625
        expected_1 = expected_report(ids.session_1, language, texts[language], registered=8,
                                     attendance=attendance_1, agreeing=3, mean_top=4.63, mean_recommend=9.63)
        assert (await get(f"/sessions/{ids.session_1}/report", language=language)).json() == expected_1
        # Session 2: positions 0, 3, 6, 9 agree: (4*4 + 8*5) / 12 = 4.667; (4*9 + 8*10) / 12 = 9.667
        expected_2 = expected_report(ids.session_2, language, texts[language], registered=12,
                                     attendance=attendance_2, agreeing=4, mean_top=4.67, mean_recommend=9.67)
        assert (await get(f"/sessions/{ids.session_2}/report", language=language)).json() == expected_2
        for session_id, expected in ((ids.session_1, expected_1), (ids.session_2, expected_2)):
            exported = await get(f"/sessions/{session_id}/report.csv", language=language)
            assert exported.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
            assert rows[0] == ["dimension", "group", "section", "item_id", "label", "metric", "value"]
            assert {(r[0], r[1]) for r in rows[1:]} == {("session", session_id)}
            assert {(r[2], r[3], r[5]): r[6] for r in rows[1:]} == csv_cells(expected)
            assert len(rows) - 1 == len(csv_cells(expected))
    assert (await get(f"/sessions/{ids.session_1}/report", language="en")).json()["headlines"][0] == (
        "All participants strongly agreed or agreed that the ToT will help improve their present work performance.")

    # Both Dakar sessions together: 20 respondents, 39 of 40 participant-days; (7*4 + 13*5) / 20 = 4.65.
    both = (await get("/reports", country="SN", language="en")).json()
    assert both["session_ids"] == [ids.session_1, ids.session_2]
    assert (both["registered"], both["responses"], both["response_rate"]) == (20, 20, 1.0)
    assert both["attendance"] == {"rate": 39 / 40, "by_day": []}
    assert both["headlines"] == [line.format(mean="4.65") for line in HEADLINES["en"]]
    # Anonymous respondents (the first of each roster) count as undisclosed.
    assert [(g["group"], g["responses"]) for g in both["breakdowns"]["sex"]] == [
        ("female", 8), ("male", 10), ("undisclosed", 2)]
    assert [(g["group"], g["responses"]) for g in both["breakdowns"]["month"]] == [("2026-05", 20)]

    # The pool: everyone who attended both days, evaluated and was rated; not the one who missed a day.
    async def settled():
        pool = (await get("/trainers")).json()
        # The government training is still scheduled: upcoming for its two trainers, not yet delivered.
        delivering = [t["upcoming_session_ids"] for t in pool if t["full_name"] in GOVERNMENT_TRAINERS]
        return pool if len(pool) >= len(CERTIFIED) and delivering == [[ids.government]] * 2 else None

    pool = await eventually(settled, timeout=WAIT, interval=1)
    assert len(CERTIFIED) == 19
    assert [t["full_name"] for t in pool] == sorted(CERTIFIED, key=str.casefold)
    for trainer in pool:
        name = trainer["full_name"]
        pid, session_id = ids.pid[name], ids.session_of[name]
        roster, modules = (ROSTER_1, MODULES_1) if session_id == ids.session_1 else (ROSTER_2, MODULES_2)
        year = trainer["certified_at"][:4]
        digest = hashlib.sha256(f"{session_id}\x1f{pid}".encode()).hexdigest()[:8].upper()
        upcoming = [ids.government] if name in GOVERNMENT_TRAINERS else []
        assert trainer == {
            "trainer_id": f"trn-{pid}", "participant_id": pid, "session_id": session_id,
            "certified_at": trainer["certified_at"], "certificate_reference": f"EMM2-TOT-{year}-{digest}",
            "full_name": name, "country": COUNTRY[name],
            # their own language (none declared another), not the bilingual sessions' fr + en
            "languages": [LANGUAGE[name]],
            # the module each trainee practised: the session's modules in turn along the roster
            "modules": [modules[roster.index(name) % len(modules)]], "status": "active",
            "government_sessions_delivered": 0, "delivered_session_ids": [], "participants_reached": 0,
            "deliveries": [], "upcoming_session_ids": upcoming}
    assert [t["full_name"] for t in (await get("/trainers", country="GH")).json()] == [
        "Adjoa Asante", "Grace Mensah", "Samuel Boateng", "Yaw Owusu"]
    assert [t["full_name"] for t in (await get("/trainers", module="labour-mobility")).json()] == [
        "Cheikh Ndiaye", "Fatoumata Camara", "Jean-Baptiste Kaboré"]  # positions 1, 4, 7 of session 1
    return pool


# -- notification ---------------------------------------------------------------------------------------

@dataclass
class Captured:
    to: str
    message_id: str
    subject: str
    language: str | None
    calendars: list[icalendar.Calendar]
    text: str


async def captured_for(addresses: list[str]) -> list[Captured]:
    """Every message the shared SMTP capture received for `addresses`, parsed."""
    async with httpx.AsyncClient(base_url=MAIL_READER, timeout=30) as reader:
        async def listing(address: str) -> list[dict]:
            response = await reader.get("/messages", params={"to": address})
            response.raise_for_status()
            return response.json()

        metas = [m for found in await asyncio.gather(*(listing(a) for a in addresses)) for m in found]

        async def parsed(meta: dict) -> Captured:
            response = await reader.get(f"/messages/{meta['id']}.eml")
            response.raise_for_status()
            message: EmailMessage = message_from_bytes(response.content, policy=policy.default)
            calendars = [icalendar.Calendar.from_ical(part.get_payload(decode=True))
                         for part in message.walk() if part.get_content_type() == "text/calendar"]
            body = message.get_body(("plain",))
            return Captured(to=meta["to"][0], message_id=str(message["Message-ID"]), subject=str(message["Subject"]),
                            language=message["Content-Language"], calendars=calendars,
                            text=body.get_content() if body else "")

        return list(await asyncio.gather(*(parsed(m) for m in metas)))


def portal_link(text: str) -> tuple[str, str]:
    """The link token and the page of the one portal address in an email's text."""
    [url] = set(re.findall(re.escape(PORTAL) + r"/signin\?\S+", text))
    query = parse_qs(urlsplit(url).query)
    return query["link"][0], query["next"][0]


async def check_notification(client: httpx.AsyncClient, ids: Ids, pool: list[dict],
                             verifier: TokenVerifier) -> list[Captured]:
    """The log (by session and by participant) and every captured email of this run (returned)."""
    expected = expected_emails()

    def subject(kind: str, language: str, session_id: str) -> str:
        start = ids.sessions[session_id]["start_date"]
        return SUBJECTS[kind][language].format(title=ids.titles[session_id], start_en=f"May {int(start[-2:])}, 2026",
                                               start_fr=f"{int(start[-2:])} mai 2026")
    certificates = {t["full_name"]: t["certificate_reference"] for t in pool}
    name_of_email = {email: name for name, email in ids.email.items()}

    async def log(**params) -> list[dict]:
        entries, url, query = [], "/notifications", {**params, "limit": MAX_LIMIT}
        while url:  # every page: the log of a session outgrows one
            response = await client.get(url, params=query)
            assert response.status_code == 200, response.text
            entries += response.json()
            url, query = next_link(response.headers), None
        return entries

    async def everything_delivered():
        entries = [e for sid in (ids.session_1, ids.session_2) for e in await log(session_id=sid)]
        final = all(e["status"] == "sent" for e in entries)  # nothing waits for a contact, staff's included
        digests = sum(e["kind"] == "report_ready" for e in entries)  # the last: two programme days after completion
        return entries if final and digests == 2 and len(entries) >= len(expected) + 3 else None

    await eventually(everything_delivered, timeout=WAIT, interval=2)
    await asyncio.sleep(5)  # anything sent twice, or sent that should not be, would show by now
    entries = await everything_delivered()

    # The log: one entry per planned message, all sent, the digests to the facilitator (in French) too.
    expected_log = Counter((kind, ids.pid[name], "sent", LANGUAGE[name]) for kind, name in expected)
    expected_log[("report_ready", ids.facilitator, "sent", "fr")] = 2
    expected_log[("absence_digest", ids.facilitator, "sent", "fr")] = 1  # 20 May, session 2
    assert Counter((e["kind"], e["recipient_participant_id"], e["status"], e["language"]) for e in entries) == \
        expected_log
    assert not any(e["possible_duplicate"] for e in entries)
    assert {e["session_id"] for e in entries if e["kind"] == "report_ready"} == {ids.session_1, ids.session_2}
    by_participant = await log(participant_id=ids.pid[CANCELLED])
    assert sorted(e["kind"] for e in by_participant) == ["enrollment_cancelled", "enrollment_registered"]
    assert await log(session_id=ids.government) == []
    sent = {(e["kind"], ids.name_of[e["recipient_participant_id"]]): e for e in entries
            if e["status"] == "sent" and e["recipient_participant_id"] != ids.facilitator}
    # The facilitator, a contact because she is in the staff directory, has one digest per session.
    to_facilitator = await captured_for([ids.facilitator_email])
    [absences] = [m for m in to_facilitator if m.subject.startswith("Absences")]
    assert absences.subject == f"Absences du 20 mai 2026 : {ids.titles[ids.session_2]}"
    assert f"- {ABSENT_ON_DAY_2}" in absences.text.splitlines()
    digests = [m for m in to_facilitator if m is not absences]
    assert sorted(m.subject for m in digests) == sorted(f"Rapport d'évaluation disponible : {title}"
                                                        for title in ids.titles.values())
    assert {m.language for m in digests} == {"fr"}
    for digest in digests:  # final figures: everyone answered; the report's French headlines
        assert "L'évaluation de cette session est close" in digest.text
        assert "Taux de réponse : 100 % des participant(e)s inscrit(e)s ont répondu." in digest.text
        assert "- " + HEADLINES["fr"][0] in digest.text

    # The emails: exactly the expected (kind, recipient) pairs, each once, in the recipient's language.
    messages = await captured_for(sorted(ids.email.values()))
    kinds_by_subject = {(subject(kind, language, sid), language): kind
                        for kind, by_language in SUBJECTS.items() for language in by_language for sid in ids.titles}
    received = []
    for message in messages:
        name = name_of_email[message.to]
        kind = kinds_by_subject.get((message.subject, LANGUAGE[name]))
        assert kind is not None, f"unexpected subject {message.subject!r} to {name} ({LANGUAGE[name]})"
        received.append((kind, name))
        assert message.language == LANGUAGE[name]
        if kind != "trainer_certified":
            assert message.subject == subject(kind, LANGUAGE[name], ids.session_of[name])
        entry = sent[kind, name]
        assert message.message_id == f"<{entry['notification_id']}@emm.iom.int>"
        method = expected[kind, name]
        if method is None:
            assert message.calendars == [], (kind, name)
        else:
            [calendar] = message.calendars
            [event] = calendar.walk("VEVENT")
            session = ids.sessions[ids.session_of[name]]
            assert str(calendar["METHOD"]) == method
            assert str(event["UID"]) == f"{session['session_id']}@emm.iom.int"
            assert str(event["ATTENDEE"]).lower() == f"mailto:{ids.email[name]}"
            assert event.decoded("DTSTART").isoformat() == session["start_date"]
        # Their own link, to this training (its evaluation page, in the invitation).
        token, page = portal_link(message.text)
        link = verifier.verify_link(token)
        assert (link.purpose, link.subject, link.session_id) == ("participant-sign-in", ids.pid[name],
                                                                 ids.session_of[name])
        evaluation = "/evaluation" if kind == "evaluation_invitation" else ""
        assert page == f"/trainings/{ids.session_of[name]}{evaluation}"
        if kind == "trainer_certified":
            assert certificates[name] in message.text
    counts = Counter(received)
    assert [pair for pair, n in counts.items() if n > 1] == []
    assert set(counts) == set(expected)
    assert len(messages) == len(expected) == 84
    return messages


async def check_signing_in_from_an_email(client: httpx.AsyncClient, ids: Ids, messages: list[Captured]) -> None:
    """The person who cancelled signs in with the link of their confirmation, and reads their own
    history with the token they get, nobody else's."""
    [confirmation] = [m for m in messages if m.to == ids.email[CANCELLED] and m.calendars
                      and str(m.calendars[0]["METHOD"]) == "REQUEST"]
    signed_in = await client.post("/sign-in", json={"link": portal_link(confirmation.text)[0]})
    assert signed_in.status_code == 200, signed_in.text
    assert (signed_in.json()["subject"], signed_in.json()["session_id"]) == (ids.pid[CANCELLED], ids.session_2)
    own = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    history = await client.get(f"/participants/{ids.pid[CANCELLED]}/history", headers=own)
    assert [h["enrollment"]["status"] for h in history.json()] == ["cancelled"]
    assert (await client.get(f"/participants/{ids.pid[PROMOTED]}/history", headers=own)).status_code == 403
