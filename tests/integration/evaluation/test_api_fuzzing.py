"""Schemathesis against the evaluation API's own OpenAPI document, with valid tokens and all of
schemathesis's checks (tests/integration/fuzzing.py): no 5xx, every status documented, schema-valid
input accepted and schema-violating input refused, and every 4xx says what is wrong. A session with registered participants, a
certified trainer and an organizer's questionnaire exist, and most generated requests name them,
so they reach the commands and reports rather than stopping at a 404."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from emm_common.envelope import new_event
from tests.conftest import eventually
from tests.integration.evaluation import registration_events as ev
from tests.integration.fuzzing import assert_no_problem_found, run_schemathesis

pytestmark = pytest.mark.integration

SESSION = "ses-fuzz"
PARTICIPANTS = ["par-1", "par-2", "par-3"]
TRAINER = "trn-par-9"
QUESTIONNAIRE = "q-fuzz"


# Schema-valid input the domain may still refuse with a 422, by a rule JSON Schema cannot say.
UNIQUE_IDS = ("item ids are unique in a questionnaire and option ids in an item: JSON Schema's uniqueItems "
              "compares whole items, not one of their fields")
NOT_APPLICABLE = {
    "POST /questionnaires": {"positive_data_acceptance": UNIQUE_IDS},
    "PUT /questionnaires/{questionnaire_id}": {"positive_data_acceptance": UNIQUE_IDS},
    "PUT /sessions/{session_id}/quotes": {"positive_data_acceptance": "a quote is a stored comment whose author "
                                                                       "consented: a fact of the data, not of the request"},
    "POST /sessions/{session_id}/feedback": {"positive_data_acceptance": "answers are checked against the session's "
                                                                           "questionnaire (its items, their ranges)"},
    "POST /sessions/{session_id}/peer-feedback": {"positive_data_acceptance": "the module is one of the session's and "
                                                                                "the trainee one of its participants"},
}


async def known_data(publisher, database, api, issue) -> dict[str, list[str]]:
    start = date.today() - timedelta(days=1)  # under way: its participants may evaluate it
    trainer = {"trainer_id": TRAINER, "participant_id": "par-9", "session_id": "ses-earlier",
               "certified_at": "2026-05-20T17:00:00Z", "certificate_reference": "EMM2-TOT-2026-000009",
               "full_name": "Participant 9", "languages": ["fr"], "country": "SN", "modules": ev.MODULES}
    for event in (ev.scheduled(ev.session(SESSION, start=start, status="in_progress")),
                  *(ev.registered(SESSION, n) for n in range(1, len(PARTICIPANTS) + 1)),
                  new_event("org.iom.emm.trainer.certified.v1", trainer, source="/emm/evaluation")):
        await publisher.publish(event)
    async with httpx.AsyncClient(base_url=api.url, headers=issue("organizer"), timeout=60) as client:
        default = (await client.get("/questionnaires/default")).json()
        created = await client.post("/questionnaires", json={"questionnaire_id": QUESTIONNAIRE,
                                                             "title": default["title"], "items": default["items"]})
    assert created.status_code == 201, created.text

    async def projected():
        registered = await database["trainees"].count_documents({"session_id": SESSION, "status": "registered"})
        return registered == len(PARTICIPANTS) and await database["trainers"].find_one({"_id": TRAINER})
    await eventually(projected)
    return {"path.session_id": [SESSION], "path.questionnaire_id": [QUESTIONNAIRE, "tot-default"],
            "path.trainer_id": [TRAINER], "body.questionnaire_id": [QUESTIONNAIRE, "tot-default"],
            "body.participant_id": PARTICIPANTS}


async def test_no_generated_request_breaks_the_contract(publisher, worker, api, database, issue):
    known = await known_data(publisher, database, api, issue)
    participant = issue("participant", "par-1", enrollment_id=f"enr-{SESSION}-1", session_id=SESSION)

    organizers = run_schemathesis(api.url, issue("organizer")["Authorization"], known_values=known,
                                  not_applicable=NOT_APPLICABLE)
    assert_no_problem_found(organizers)
    # Evaluations and peer ratings are the participants' own: their token reaches those commands.
    participants = run_schemathesis(api.url, participant["Authorization"], "--include-tag", "feedback",
                                    known_values=known, not_applicable=NOT_APPLICABLE)
    assert_no_problem_found(participants)
