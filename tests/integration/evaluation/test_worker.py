"""The evaluation worker on the real broker and database: projections, certification exactly
once, out-of-order facts, dead letters, and a rebuild from the topics into an empty database."""

from __future__ import annotations

import pytest

from emm_common.envelope import to_record
from emm_common.topics import topic_name
from emm_evaluation.domain.report import build_session_report
from emm_evaluation.domain.report_export import report_to_dict
from emm_evaluation.service_layer.handlers import PROJECTIONS, projection_snapshot
from emm_evaluation.bootstrap import report_reader
from tests.conftest import eventually
from tests.integration.evaluation import registration_events as ev
from tests.processes import ServiceProcess
from tests.topics import read_events, read_topic

pytestmark = pytest.mark.integration


async def publish(publisher, *events):
    for event in events:
        await publisher.publish(event)


async def trainer_of(database, n: int):
    return await database["trainers"].find_one({"_id": f"trn-par-{n}"})


async def certified_events(topic_prefix, expected: int = 1, timeout: float = 20.0):
    events = await read_events(topic_name("emm.trainers", topic_prefix), expected, timeout)
    return [e for e in events if e.type == "org.iom.emm.trainer.certified.v1"]


async def test_a_participant_meeting_every_rule_is_certified_once_and_redelivery_publishes_nothing(
        publisher, worker, database, topic_prefix):
    details = ev.session("ses-a")
    facts = [ev.scheduled(details), *ev.certifiable("ses-a", 1), *ev.certifiable("ses-a", 2),
             ev.attended("ses-a", 2, "2026-05-20", "absent", at="2026-05-20T18:00:00Z")]  # corrected: 1 of 2 days
    await publish(publisher, *facts)
    # Decided on completion: the correction (another topic) must be projected before it.
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-a|par-2",
                                                            "marks.2026-05-20": {"$regex": "absent$"}}))
    facts.append(ev.completed("ses-a"))
    await publish(publisher, facts[-1])
    trainer = await eventually(lambda: trainer_of(database, 1))
    assert trainer["certificate_reference"].startswith("EMM2-TOT-2026-")
    assert trainer["languages"] == ["fr"] and trainer["modules"] == ["migration-governance"]
    [certified] = await certified_events(topic_prefix)
    assert certified.data["participant_id"] == "par-1"

    await publish(publisher, *facts, ev.completed("ses-a", at="2026-05-21T08:00:00Z"))  # redelivery and a repeat
    await eventually(lambda: database["sessions"].find_one({"_id": "ses-a", "completed_at": "2026-05-20T17:00:00Z"}))
    assert len(await certified_events(topic_prefix, expected=2, timeout=6)) == 1
    assert await trainer_of(database, 2) is None  # attended 50% of the days


async def test_facts_arriving_before_the_enrollment_and_the_session_are_kept_and_reconciled(
        publisher, worker, database, topic_prefix):
    # Feedback, attendance and a rating first; the enrollment later; the session last of all.
    await publish(publisher, ev.feedback("ses-b", 3), ev.attended("ses-b", 3, "2026-05-19"),
                  ev.attended("ses-b", 3, "2026-05-20"), ev.peer_rating("ses-b", 3), ev.completed("ses-b"))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-b|par-3", "ratings": {"$ne": "{}"}}))
    assert await trainer_of(database, 3) is None
    await publish(publisher, ev.registered("ses-b", 3))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-b|par-3", "status": "registered"}))
    assert await trainer_of(database, 3) is None  # the session itself is still unknown
    await publish(publisher, ev.scheduled(ev.session("ses-b")))
    trainer = await eventually(lambda: trainer_of(database, 3))
    assert trainer["session_id"] == "ses-b" and trainer["certified_at"] == "2026-05-20T17:00:00Z"
    assert len(await certified_events(topic_prefix)) == 1


async def test_government_deliveries_count_for_their_facilitators(publisher, worker, database):
    gov = ev.session("gov-1", kind="government_delivery", facilitators=("par-1", "par-2"))
    await publish(publisher, ev.scheduled(gov), ev.scheduled(ev.session("gov-2", kind="government_delivery",
                                                                        facilitators=("par-1",))))
    # Upcoming while scheduled; delivered once completed.
    await eventually(lambda: database["facilitators"].find_one({"_id": "par-1", "upcoming_sessions.1": "gov-2"}))
    await publish(publisher, ev.completed("gov-1"), ev.completed("gov-2"))
    await eventually(lambda: database["facilitators"].find_one({"_id": "par-1", "government_sessions.1": "gov-2",
                                                                "upcoming_sessions": []}))
    await publish(publisher, ev.updated({**gov, "facilitator_ids": ["par-1"], "sequence": 1}, "facilitator_ids"))
    await eventually(lambda: database["facilitators"].find_one({"_id": "par-2", "government_sessions": []}))


async def test_malformed_and_schema_invalid_events_are_dead_lettered_and_the_worker_carries_on(
        publisher, worker, database, topic_prefix):
    bad = ev.scheduled(ev.session("ses-bad"))
    record = to_record(bad)
    invalid = record.value.replace(b'"programme":"EMM2.0"', b'"programme":"other"').replace(
        b'"programme": "EMM2.0"', b'"programme": "other"')
    assert invalid != record.value
    sessions = topic_name("emm.sessions", topic_prefix)
    await publisher.send_raw(sessions, b"not json at all", b"ses-bad", [])
    await publisher.send_raw(sessions, invalid, record.key, record.headers)
    await publish(publisher, ev.scheduled(ev.session("ses-good")))
    await eventually(lambda: database["sessions"].find_one({"_id": "ses-good"}))
    dead = await read_topic(topic_name("emm.dlq.evaluation", topic_prefix), 2)
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert len(reasons) == 2
    assert any("programme" in reason for reason in reasons), reasons
    assert any(reason.startswith("malformed") for reason in reasons), reasons
    assert await database["sessions"].find_one({"_id": "ses-bad"}) is None


async def snapshot(database) -> dict:
    return {name: projection_snapshot([doc async for doc in database[name].find({})]) for name in PROJECTIONS}


async def test_a_rebuild_from_every_topic_into_an_empty_database_gives_identical_projections_and_report(
        publisher, worker, database, topic_prefix, keys, unique):
    await publish(publisher, ev.scheduled(ev.session("ses-r")))
    for n in range(1, 7):
        await publish(publisher, *ev.certifiable("ses-r", n))
    await publish(publisher, ev.feedback("ses-r", 2, 3, submitted_at="2026-05-21T10:00:00Z"),  # a resubmission
                  ev.feedback("ses-r", 7, anonymous=True, respondent_ref="r" + "0" * 32),
                  ev.attended("ses-r", 6, "2026-05-20", "absent", at="2026-05-20T19:00:00Z"),
                  ev.scheduled(ev.session("gov-r", kind="government_delivery", facilitators=("par-1",))))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-r|par-6",
                                                            "marks.2026-05-20": {"$regex": "absent$"}}))
    await publish(publisher, ev.completed("ses-r"))
    await eventually(lambda: trainer_of(database, 5))
    assert len(await certified_events(topic_prefix, expected=5)) == 5
    first = await snapshot(database)
    await eventually(lambda: database["trainers"].count_documents({"outbox": {}}), timeout=90)

    rebuild_name = f"test_{unique}_rebuild"
    rebuild = ServiceProcess("evaluation", "worker", topic_prefix, rebuild_name, keys, env={
        "EVALUATION_CONSUMER_GROUP": "evaluation-rebuild", "EVALUATION_PUBLISH_DECISIONS": "false"}).start()
    rebuilt_db = database.client[rebuild_name]
    try:
        async def caught_up():
            return await snapshot(rebuilt_db) == first
        await eventually(caught_up, timeout=180)
    finally:
        rebuild.stop()
    try:
        assert await snapshot(rebuilt_db) == first
        for language in ("en", "fr", "pt"):
            reports = [report_to_dict(build_session_report(await report_reader(db).session_facts("ses-r"), language))
                       for db in (database, rebuilt_db)]
            assert reports[0] == reports[1]
        assert len(await certified_events(topic_prefix, expected=6, timeout=6)) == 5
    finally:
        await database.client.drop_database(rebuild_name)
