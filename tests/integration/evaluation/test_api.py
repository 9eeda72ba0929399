"""The evaluation API as a real process, with the worker, the broker and the database: the seed's
report from data, who may submit what, errors that name the item at fault, the trainer pool."""

from __future__ import annotations

import csv
import io
import json

import pytest

from emm_common.paging import next_link
from emm_common.topics import topic_name
from tests.conftest import eventually
from tests.integration.evaluation import registration_events as ev
from tests.topics import read_events

pytestmark = pytest.mark.integration

QUOTE = "This is the best training I've had at IOM!"
HEADLINES = {
    "en": "All participants strongly agreed or agreed that the ToT will help improve their present work performance.",
    "fr": "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que la formation des formateurs "
          "les aidera à améliorer leurs performances professionnelles actuelles.",
    "pt": "Todos os participantes concordaram totalmente ou concordaram que a formação de formadores os ajudará a "
          "melhorar o seu desempenho profissional atual.",
}


async def publish(publisher, *events):
    for event in events:
        await publisher.publish(event)


def answers(work_performance=5, **overrides):
    values = {"work_performance": work_performance, "methodology": 5, "content_quality": 5, "facilitation": 4,
              "relevance": 5, "organization": 4, "recommend": 10, **overrides}
    return [{"item_id": item, "value": value} for item, value in values.items()]


def participant_token(issue, session_id, n):
    return issue("participant", f"par-{n}", enrollment_id=f"enr-{session_id}-{n}", session_id=session_id)


async def registered_session(publisher, database, session_id, count, **details):
    await publish(publisher, ev.scheduled(ev.session(session_id, **details)),
                  *(ev.registered(session_id, n) for n in range(1, count + 1)))

    async def projected():
        return await database["trainees"].count_documents({"session_id": session_id, "status": "registered"}) == count
    await eventually(projected)


async def test_the_seed_session_report_says_all_participants_agreed_in_three_languages(
        publisher, worker, client, database, issue):
    session_id = "ses-dakar-2"
    await registered_session(publisher, database, session_id, 12, status="in_progress")
    await publish(publisher, *(ev.attended(session_id, n, day) for n in range(1, 13)
                               for day in ("2026-05-19", "2026-05-20") if not (n == 12 and day == "2026-05-20")))
    for n in range(1, 13):
        given = answers(4 if n % 3 == 0 else 5, **({"comments": QUOTE} if n == 1 else {}))
        response = await client.post(f"/sessions/{session_id}/feedback", headers=participant_token(issue, session_id, n),
                                     json={"language": "fr" if n % 2 else "en", "answers": given,
                                           "anonymous": n == 1})
        assert response.status_code == 201, response.text
        assert response.json()["replaced"] is False

    async def all_responses():
        doc = await database["sessions"].find_one({"_id": session_id})
        return len(doc["respondents"]) == 12
    await eventually(all_responses)

    reader = issue("organizer")
    for language, headline in HEADLINES.items():
        report = (await client.get(f"/sessions/{session_id}/report", params={"language": language},
                                   headers=reader)).json()
        assert report["headlines"][0] == headline
    report = (await client.get(f"/sessions/{session_id}/report", headers=reader)).json()
    assert (report["registered"], report["responses"], report["response_rate"]) == (12, 12, 1.0)
    work = report["ratings"]["likert"][0]
    assert work["item_id"] == "work_performance" and work["counts"] == {"1": 0, "2": 0, "3": 0, "4": 4, "5": 8}
    assert report["ratings"]["scales"][0]["nps"] == 100
    # Rates are fractions from 0 to 1 (docs/api-conventions.md); percentages only in the headlines.
    assert report["attendance"]["by_day"] == [{"day": "2026-05-19", "attended": 12, "rate": 1.0},
                                              {"day": "2026-05-20", "attended": 11, "rate": 11 / 12}]
    assert report["ratings"]["likert"][0]["agree_rate"] == 1.0 and "agree_percent" not in report["ratings"]["likert"][0]
    assert report["comments"] == [{"item_id": "comments", "text": QUOTE, "author": None}]  # anonymous: no name

    exported = await client.get(f"/sessions/{session_id}/report.csv", headers=reader)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"dimension": "session", "group": session_id, "section": "likert5", "item_id": "work_performance",
            "metric": "agree_rate", "value": "1.0"}.items() <= next(
        r for r in rows if r["item_id"] == "work_performance" and r["metric"] == "agree_rate").items()

    across = (await client.get("/reports", params={"country": "SN", "sex": "male"}, headers=reader)).json()
    assert across["session_ids"] == [session_id] and across["responses"] == 6  # the six men; none anonymous
    assert (await client.get("/reports", params={"country": "CI"}, headers=reader)).json()["session_ids"] == []


async def test_evaluations_are_refused_with_the_reason_and_the_item_at_fault(
        publisher, worker, client, database, issue, topic_prefix):
    await registered_session(publisher, database, "ses-e", 2, status="in_progress")
    await registered_session(publisher, database, "ses-later", 1, start=ev.date(2099, 1, 5))
    url = "/sessions/ses-e/feedback"
    token = participant_token(issue, "ses-e", 1)

    assert (await client.post(url, json={"answers": answers()})).status_code == 401
    assert (await client.post(url, json={"answers": answers()}, headers=issue("organizer"))).status_code == 403
    wrong_scope = participant_token(issue, "ses-later", 1)
    refused = await client.post(url, json={"answers": answers()}, headers=wrong_scope)
    assert refused.status_code == 403 and refused.json()["detail"][0]["loc"] == ["path", "session_id"]
    not_enrolled = await client.post(url, json={"answers": answers()}, headers=participant_token(issue, "ses-e", 9))
    # A token scoped to an enrollment whose event has not reached us yet: try again later, nothing is lost.
    assert not_enrolled.status_code == 409 and not_enrolled.json()["detail"][0]["loc"] == ["body", "enrollment_id"]
    await publish(publisher, ev.new_event("org.iom.emm.enrollment.cancelled.v1", {
        "enrollment_id": "enr-ses-e-2", "session_id": "ses-e", "participant_id": "par-2",
        "cancelled_at": "2026-05-02T09:00:00Z", "previous_status": "registered"}, source=ev.SOURCE))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-e|par-2", "status": "cancelled"}))
    cancelled = await client.post(url, json={"answers": answers()}, headers=participant_token(issue, "ses-e", 2))
    # A cancelled enrollment's token no longer works (docs/authorization.md).
    assert cancelled.status_code == 401 and "cancelled" in cancelled.json()["detail"]
    too_early = await client.post("/sessions/ses-later/feedback", json={"answers": answers()}, headers=wrong_scope)
    assert too_early.status_code == 409 and too_early.json()["detail"][0]["loc"] == ["body", "session_start_date"]

    missing = [a for a in answers() if a["item_id"] != "work_performance"]
    response = await client.post(url, json={"answers": missing}, headers=token)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "work_performance"]
    response = await client.post(url, json={"answers": answers(recommend=11)}, headers=token)
    assert response.status_code == 422 and response.json()["detail"][0] == {
        "loc": ["body", "recommend"], "msg": "must be from 0 to 10", "type": "InvalidInput"}

    first = await client.post(url, json={"answers": answers(), "submission_id": "fbk-e-1"}, headers=token)
    assert first.status_code == 201
    again = await client.post(url, json={"answers": answers(), "submission_id": "fbk-e-1"}, headers=token)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    made_anonymous = await client.post(url, json={"answers": answers(3), "anonymous": True}, headers=token)
    assert made_anonymous.status_code == 409 and made_anonymous.json()["detail"][0]["loc"] == ["body", "anonymous"]
    second = await client.post(url, json={"answers": answers(3)}, headers=token)
    assert second.status_code == 200 and second.json()["replaced_submission_id"] == "fbk-e-1"
    events = await read_events(topic_name("emm.feedback", topic_prefix), 2)
    assert [(e.data["participant_id"], e.data.get("replaces_submission_id")) for e in events] == [
        ("par-1", None), ("par-1", "fbk-e-1")]  # the refused anonymous one published nothing


async def test_nothing_on_the_topic_or_in_the_report_links_an_anonymous_evaluation_to_its_author(
        publisher, worker, client, database, issue, topic_prefix):
    await registered_session(publisher, database, "ses-anon", 2, status="in_progress")
    url = "/sessions/ses-anon/feedback"
    named = await client.post(url, json={"answers": answers(), "submission_id": "fbk-named"},
                              headers=participant_token(issue, "ses-anon", 1))
    assert named.status_code == 201
    for submission_id in ("fbk-anon-1", "fbk-anon-2"):  # an anonymous answer, then its anonymous replacement
        response = await client.post(url, json={"answers": answers(4, comments=QUOTE), "anonymous": True,
                                                "submission_id": submission_id},
                                     headers=participant_token(issue, "ses-anon", 2))
        assert response.status_code in (200, 201)
    events = await read_events(topic_name("emm.feedback", topic_prefix), 3)
    named_event, *anonymous = [e.data for e in events]
    assert "respondent_ref" not in named_event and "respondent_seal" not in named_event
    for data in anonymous:
        assert set(data) & {"participant_id", "respondent_ref"} == set()
        assert "par-2" not in str(data)
    assert anonymous[0]["respondent_seal"] != anonymous[1]["respondent_seal"]
    assert anonymous[1]["replaces_submission_id"] == "fbk-anon-1"

    # The service itself still knows that participant 2 evaluated: two respondents, one current answer each.
    session = await eventually(lambda: database["sessions"].find_one({"_id": "ses-anon", "respondents.1": {"$exists": True}}))
    assert len(session["respondents"]) == 2
    report = (await client.get("/sessions/ses-anon/report", headers=issue("organizer"))).json()
    assert "par-2" not in str(report) and "fbk-anon" not in str(report)
    assert {"item_id": "comments", "text": QUOTE, "author": None} in report["comments"]


async def test_unknown_ids_in_the_path_are_404_located_in_the_path(client, issue):
    staff = issue("organizer")
    for url in ("/sessions/ses-nobody/report", "/sessions/ses-nobody/report.csv", "/sessions/ses-nobody/questionnaire",
                "/questionnaires/q-nobody"):
        response = await client.get(url, headers=staff)
        name = "questionnaire_id" if url.startswith("/questionnaires") else "session_id"
        assert response.status_code == 404 and response.json()["detail"][0]["loc"] == ["path", name], url
    revoked = await client.post("/trainers/trn-nobody/revoke", json={"reason": "x"}, headers=staff)
    assert revoked.status_code == 404 and revoked.json()["detail"][0]["loc"] == ["path", "trainer_id"]
    # A body field of the same request stays in the body.
    attached = await client.put("/sessions/ses-nobody/questionnaire", json={"questionnaire_id": "q-nobody"},
                                headers=staff)
    assert attached.status_code == 404 and attached.json()["detail"][0]["loc"] == ["path", "session_id"]


async def test_peer_feedback_scores_and_questionnaire_versions(publisher, worker, client, database, issue,
                                                               topic_prefix):
    await registered_session(publisher, database, "ses-p", 3, status="in_progress")
    url = "/sessions/ses-p/peer-feedback"
    body = {"trainee_participant_id": "par-2", "module": "migration-governance",
            "scores": {c: 4 for c in ("content_mastery", "clarity", "participant_engagement", "time_management",
                                      "adult_learning_methods")}, "comment": "Clear and engaging"}
    assert (await client.post(url, json=body, headers=issue("organizer"))).status_code == 403
    outsider = await client.post(url, json=body, headers=issue("facilitator", "fac-other"))
    assert outsider.status_code == 403
    own = await client.post(url, json={**body, "trainee_participant_id": "par-1"},
                            headers=participant_token(issue, "ses-p", 1))
    assert own.status_code == 422 and own.json()["detail"][0]["loc"] == ["body", "rater_participant_id"]
    low = await client.post(url, json={**body, "scores": {**body["scores"], "clarity": 0}}, headers=issue("facilitator", "fac-1"))
    assert low.status_code == 422 and low.json()["detail"][0]["loc"] == ["body", "scores.clarity"]
    by_peer = await client.post(url, json=body, headers=participant_token(issue, "ses-p", 1))
    assert by_peer.status_code == 201 and by_peer.json()["rater_role"] == "peer"
    by_facilitator = await client.post(url, json=body, headers=issue("facilitator", "fac-1"))
    assert by_facilitator.status_code == 201 and by_facilitator.json()["rater_role"] == "facilitator"
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-p|par-2", "ratings": {"$regex": "fac-1"}}))

    scores = "/sessions/ses-p/scores"
    assert (await client.post(scores, json={"participant_id": "par-2", "phase": "pre", "score": 55},
                              headers=issue("facilitator", "fac-1"))).status_code == 200
    gained = await client.post(scores, json={"participant_id": "par-2", "phase": "post", "score": 85},
                               headers=issue("organizer"))
    assert gained.json() == {"participant_id": "par-2", "pre": 55, "post": 85, "gain": 30}
    wrong = await client.post(scores, json={"participant_id": "par-2", "phase": "post", "score": 150},
                              headers=issue("organizer"))
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "score"]
    again = await client.post(scores, json={"participant_id": "par-2", "phase": "post", "score": 85},
                              headers=issue("organizer"))  # a retried request: no new fact
    assert again.json() == gained.json()
    # Each score is a fact on emm.feedback (after the two peer ratings), naming the person by id only.
    on_topic = await read_events(topic_name("emm.feedback", topic_prefix), expected=4)
    recorded = [e.data for e in on_topic if e.type == "org.iom.emm.knowledge_score.recorded.v1"]
    assert [(d["participant_id"], d["phase"], d["score"], d["pass_mark"], d["recorded_by"]) for d in recorded] == [
        ("par-2", "pre", 55, 70, "fac-1"), ("par-2", "post", 85, 70, "someone")]
    # The worker projects them onto the trainee; the report reads them from there, person by person.
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-p|par-2", "knowledge.post.score": 85}))
    report = (await client.get("/sessions/ses-p/report", headers=issue("organizer"))).json()
    assert report["knowledge_test"]["mean_gain"] == 30
    assert report["knowledge_test"]["by_person"] == [
        {"participant_id": "par-2", "full_name": "Participant 2", "pre": 55, "post": 85, "gain": 30, "passed": True}]

    default = (await client.get("/questionnaires/default", headers=issue("participant", "par-1"))).json()
    custom = {"questionnaire_id": "q-ibm", "title": default["title"], "items": default["items"][:2]}
    assert (await client.post("/questionnaires", json=custom, headers=issue("facilitator"))).status_code == 403
    bad = await client.post("/questionnaires", json={**custom, "questionnaire_id": "q-bad",
                                                      "items": [{**default["items"][0], "type": "stars"}]},
                            headers=issue("organizer"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "work_performance.type"]
    assert (await client.post("/questionnaires", json=custom, headers=issue("organizer"))).status_code == 201
    revised = await client.put("/questionnaires/q-ibm", json={"items": default["items"][:3]},
                               headers=issue("organizer"))
    assert revised.json()["version"] == 2
    attached = await client.put("/sessions/ses-p/questionnaire", json={"questionnaire_id": "q-ibm", "version": 1},
                                headers=issue("organizer"))
    assert attached.json() == {"questionnaire_id": "q-ibm", "version": 1}
    used = (await client.get("/sessions/ses-p/questionnaire", headers=participant_token(issue, "ses-p", 1))).json()
    assert (used["version"], [i["item_id"] for i in used["items"]]) == (1, ["work_performance", "methodology"])


async def test_the_trainer_pool_finds_certified_trainers_with_their_deliveries_and_revocation_removes_them(
        publisher, worker, client, database, issue, topic_prefix):
    await publish(publisher, ev.scheduled(ev.session("ses-t")), *ev.certifiable("ses-t", 1),
                  *ev.certifiable("ses-t", 2), ev.scheduled(ev.session("gov-t", kind="government_delivery",
                                                                       facilitators=("par-1",))))
    await eventually(lambda: database["trainees"].count_documents({"session_id": "ses-t", "ratings": {"$ne": "{}"}}))
    await eventually(lambda: database["facilitators"].find_one({"_id": "par-1"}))
    await publish(publisher, ev.completed("ses-t"))
    staff = issue("organizer")

    async def pool(**params):
        return (await client.get("/trainers", params=params, headers=staff)).json()

    async def both_certified():
        return len(await pool()) == 2

    await eventually(both_certified)  # the pool fills as the worker decides, one trainee at a time
    found = await pool(language="fr", country="SN", module="migration-governance")
    # Scheduled is upcoming; it counts as delivered once completed.
    assert [(t["participant_id"], t["government_sessions_delivered"], t["upcoming_session_ids"])
            for t in found] == [("par-1", 0, ["gov-t"])]
    # Completed, but with no attendance recorded, it was not held: it does not count (issue 14).
    await publish(publisher, ev.completed("gov-t"))
    await eventually(lambda: database["facilitators"].find_one({"_id": "par-1", "government_sessions": ["gov-t"]}))
    assert [(t["government_sessions_delivered"], t["upcoming_session_ids"])
            for t in await pool(language="fr", country="SN")] == [(0, [])]
    # Held: attendance was recorded; one of the two government officials attended.
    await publish(publisher, ev.registered("gov-t", 5), ev.registered("gov-t", 6), ev.attended("gov-t", 5, "2026-05-19"),
                  ev.attended("gov-t", 6, "2026-05-19", "absent"), ev.attended("gov-t", 6, "2026-05-20", "absent"))

    async def delivered():
        found = await pool(language="fr", country="SN", module="migration-governance")
        return [(t["participant_id"], t["government_sessions_delivered"], t["delivered_session_ids"],
                 t["participants_reached"]) for t in found] == [("par-1", 1, ["gov-t"], 1)]

    await eventually(delivered)
    held = (await pool(language="fr", country="SN"))[0]["deliveries"]
    assert held == [{"session_id": "gov-t", "end_date": "2026-05-20", "participants_reached": 1}]
    assert [t["participant_id"] for t in await pool(delivered_since="2026-05-20")] == ["par-1"]
    assert await pool(delivered_since="2026-05-21") == []
    assert len(await pool(certified_from="2026-05-20", certified_to="2026-05-20")) == 2
    assert await pool(certified_from="2026-06-01") == []
    first = await client.get("/trainers", params={"limit": 1}, headers=staff)
    assert len(first.json()) == 1 and first.headers["EMM-Next-Offset"] == "1"
    second = await client.get(next_link(first.headers), headers=staff)
    assert [t["participant_id"] for t in first.json() + second.json()] == [t["participant_id"] for t in await pool()]
    assert "Link" not in second.headers
    too_many = await client.get("/trainers", params={"limit": 201}, headers=staff)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    assert (await client.get("/trainers", headers=issue("participant", "par-1"))).status_code == 403
    own = await client.get("/participants/par-1/certificate", headers=issue("participant", "par-1"))
    assert own.status_code == 200 and own.json()["certificate_reference"] == found[0]["certificate_reference"]
    assert (await client.get("/participants/par-1/certificate",
                             headers=issue("participant", "par-2"))).status_code == 403
    assert (await client.get("/participants/par-9/certificate", headers=staff)).status_code == 404

    assert (await client.post("/trainers/trn-par-2/revoke", json={"reason": "x"},
                              headers=issue("facilitator"))).status_code == 403
    assert (await client.post("/trainers/trn-par-2/revoke", json={},
                              headers=staff)).json()["detail"][0]["loc"] == ["body", "reason"]
    revoked = await client.post("/trainers/trn-par-2/revoke", json={"reason": "Left IOM"}, headers=staff)
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "someone"
    again = await client.post("/trainers/trn-par-2/revoke", json={"reason": "Left IOM"}, headers=staff)
    assert again.status_code == 409
    assert (await client.post("/trainers/trn-nobody/revoke", json={"reason": "x"}, headers=staff)).status_code == 404

    async def only_par_1():
        return [t["participant_id"] for t in await pool()] == ["par-1"]
    await eventually(only_par_1)
    events = await read_events(topic_name("emm.trainers", topic_prefix), 3)
    assert sorted(e.type.split(".")[4] for e in events) == ["certified", "certified", "revoked"]


async def test_a_participants_certification_status_lists_each_rule_with_figure_threshold_and_outcome(
        publisher, worker, client, database, issue):
    # Issue 14: nobody could see why a participant was not certified.
    await publish(publisher, ev.scheduled(ev.session("ses-why")), *ev.certifiable("ses-why", 1),
                  ev.registered("ses-why", 2), ev.attended("ses-why", 2, "2026-05-19"), ev.completed("ses-why"))
    await eventually(lambda: database["trainers"].find_one({"_id": "trn-par-1"}))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-why|par-2", "marks": {"$ne": {}}}))
    staff = issue("organizer")
    url = "/sessions/ses-why/participants/{}/certification"
    certified = (await client.get(url.format("par-1"), headers=staff)).json()
    assert certified["certified"] and certified["final"] and certified["certificate_reference"].startswith("EMM2-TOT")
    assert all(rule["met"] for rule in certified["rules"])
    missed = (await client.get(url.format("par-2"), headers=staff)).json()
    assert not missed["certified"] and missed["certificate_reference"] is None
    assert {r["rule"]: (r["figure"], r["threshold"], r["met"]) for r in missed["rules"]} == {
        "attendance": (0.5, 0.8, False), "evaluation": (False, True, False), "peer_rubric": (None, 3.5, False),
        "post_test": (None, 70, True)}
    assert missed["knowledge_test"] == {"participant_id": "par-2", "pre": None, "post": None, "gain": None,
                                        "pass_mark": 70}
    # A post-test recorded after completion: the status shows it, and it is the figure the rule reads.
    await publish(publisher, ev.knowledge_score("ses-why", 2, 45, "pre"), ev.knowledge_score("ses-why", 2, 60))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-why|par-2", "knowledge.post.score": 60}))
    scored = (await client.get(url.format("par-2"), headers=staff)).json()
    assert scored["knowledge_test"] == {"participant_id": "par-2", "pre": 45, "post": 60, "gain": 15, "pass_mark": 70}
    assert [(r["figure"], r["met"]) for r in scored["rules"] if r["rule"] == "post_test"] == [(60, False)]
    assert (await client.get(url.format("par-9"), headers=staff)).status_code == 404


async def test_an_organizer_picks_only_consented_comments_as_quotes_and_an_unnamed_one_has_no_name(
        publisher, worker, client, database, issue):
    # Issue 14: the seed's write-up quotes a participant; quotes need the author's consent.
    session_id = "ses-quotes"
    await registered_session(publisher, database, session_id, 3, status="in_progress")
    consents = {1: ("named", False), 2: ("unnamed", True), 3: (None, False)}
    for n, (consent, anonymous) in consents.items():
        body = {"language": "en", "answers": answers(5, comments=f"Comment {n}"), "anonymous": anonymous}
        if consent:
            body["quote_consent"] = consent
        sent = await client.post(f"/sessions/{session_id}/feedback", json=body,
                                 headers=participant_token(issue, session_id, n))
        assert sent.status_code == 201, sent.text
    refused = await client.post(f"/sessions/{session_id}/feedback", headers=participant_token(issue, session_id, 2),
                                json={"answers": answers(5), "anonymous": True, "quote_consent": "named"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "quote_consent"]

    async def all_in():
        return len((await database["sessions"].find_one({"_id": session_id}))["respondents"]) == 3
    await eventually(all_in)
    staff = issue("organizer")
    quotable = (await client.get(f"/sessions/{session_id}/report", headers=staff)).json()["quotable"]
    assert [(q["text"], q["author"]) for q in quotable] == [("Comment 1", "Participant 1"), ("Comment 2", None)]
    url = f"/sessions/{session_id}/quotes"
    picks = [{"submission_id": q["submission_id"], "item_id": q["item_id"]} for q in reversed(quotable)]
    assert (await client.put(url, json={"quotes": picks}, headers=issue("facilitator", "fac-1"))).status_code == 403
    chosen = await client.put(url, json={"quotes": picks}, headers=staff)
    assert chosen.status_code == 200 and [q["text"] for q in chosen.json()] == ["Comment 2", "Comment 1"]
    report = (await client.get(f"/sessions/{session_id}/report", headers=staff)).json()
    assert [(q["text"], q["author"]) for q in report["quotes"]] == [("Comment 2", None), ("Comment 1", "Participant 1")]
    # The comment given without consent cannot be picked, whoever asks.
    no_consent = (await client.get(f"/sessions/{session_id}/report", headers=staff)).json()["comments"]
    submissions = [json.loads(r["submission"]) for r in await database["responses"].find(
        {"session_id": session_id}).to_list(None)]
    ids = {s.get("participant_id"): s["submission_id"] for s in submissions}
    wrong = await client.put(url, json={"quotes": [{"submission_id": ids["par-3"], "item_id": "comments"}]},
                             headers=staff)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "quotes.0"]
    assert any(c["text"] == "Comment 3" for c in no_consent)


async def test_the_write_up_tells_the_sessions_attendance_headlines_quotes_and_new_trainers(
        publisher, worker, client, database, issue):
    await publish(publisher, ev.scheduled(ev.session("ses-w1")), *ev.certifiable("ses-w1", 1),
                  *ev.certifiable("ses-w1", 2), ev.completed("ses-w1"),
                  ev.scheduled(ev.session("ses-w2", office="RO Elsewhere", country="NG")))
    async def both_certified():
        return await database["trainers"].count_documents({"session_id": "ses-w1"}) == 2
    await eventually(both_certified)
    await eventually(lambda: database["sessions"].find_one({"_id": "ses-w2", "session": {"$ne": None}}))
    staff = issue("organizer")
    story = await client.get("/write-up", params={"session_id": ["ses-w1"], "language": "fr"}, headers=staff)
    assert story.status_code == 200, story.text
    data = story.json()
    assert data["paragraphs"][0].startswith("RO Dakar a organisé 1 session de formation des formateurs")
    assert "Présents : 2 le 19 mai et 2 le 20 mai." in data["paragraphs"][1]
    assert data["paragraphs"][-1] == "2 nouveaux formateurs ont rejoint le vivier des formateurs EMM2.0 certifiés."
    assert data["trainers_certified"] == 2 and [s["session_id"] for s in data["sessions"]] == ["ses-w1"]
    # An organizer of another office sees none of these sessions: nothing to write up.
    other = await client.get("/write-up", params={"session_id": ["ses-w1"]},
                             headers=issue("organizer", offices=["RO Elsewhere"]))
    assert other.status_code == 404 and other.json()["detail"][0]["loc"] == ["query", "session_id"]
