"""The evaluation worker's transitions, run by the shared applier on the in-memory document
store: projections, certification exactly once, redelivery and replay, a crash between two
writes of one event, and the database calls each event costs. No broker, no database."""

from __future__ import annotations

import random

import pytest

from emm_common.consumer import PoisonEvent
from emm_common.envelope import Event
from emm_common.store.memory import MemoryDocumentStore
from emm_evaluation import bootstrap
from emm_evaluation.config import Settings
from emm_evaluation.domain.respondents import respondent_ref, seal_respondent
from emm_evaluation.service_layer.handlers import PROJECTIONS, projection_snapshot
from emm_evaluation.domain.certification import search_pool
from emm_evaluation.service_layer.commands import trainer_from_doc
from emm_evaluation.service_layer.reports import CommandSide, ReportReader
from tests.integration.evaluation import registration_events as ev

KEY = "unit-respondent-key"


class Worker:
    """The worker's applier on a memory store; `published` holds what went into outboxes."""

    def __init__(self, store: MemoryDocumentStore | None = None, decide: bool = True) -> None:
        self.store = store or MemoryDocumentStore()
        self.published: list[dict] = []
        self.store.on_commit = lambda collection, doc_id, entries: self.published.extend(entries.values())
        self.applier = bootstrap.applier(Settings(respondent_key=KEY), self.store, publish_decisions=decide)

    async def feed(self, *events) -> None:
        for event in events:
            await self.applier.apply(event)

    async def doc(self, collection: str, doc_id: str) -> dict | None:
        found = await self.store.get(collection, doc_id)
        return found.document if found else None

    async def projections(self) -> dict[str, list[dict]]:
        return {name: projection_snapshot([s.document for s in await self.store.all(name)]) for name in PROJECTIONS}

    def certified(self) -> list[str]:
        return [entry["data"]["participant_id"] for entry in self.published
                if entry["type"] == "org.iom.emm.trainer.certified.v1"]


class Crashing(MemoryDocumentStore):
    """A process killed at its `crash_at`th write from now: that write never happens."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_at: int | None = None

    def _tick(self) -> None:
        if self.crash_at is not None:
            self.crash_at -= 1
            if self.crash_at == 0:
                self.crash_at = None
                raise ConnectionError("killed")

    async def insert(self, *args, **kwargs):
        self._tick()
        return await super().insert(*args, **kwargs)

    async def insert_many(self, *args, **kwargs):
        self._tick()
        return await super().insert_many(*args, **kwargs)

    async def replace(self, *args, **kwargs):
        self._tick()
        return await super().replace(*args, **kwargs)


def session_of_two() -> list:
    """Participant 1 meets every rule; participant 2's second day is corrected to absent."""
    return [ev.scheduled(ev.session("ses-a")), *ev.certifiable("ses-a", 1), *ev.certifiable("ses-a", 2),
            ev.attended("ses-a", 2, "2026-05-20", "absent", at="2026-05-20T18:00:00Z")]


async def test_a_participant_meeting_every_rule_is_certified_once_when_the_session_completes():
    worker = Worker()
    await worker.feed(*session_of_two())
    assert worker.certified() == []  # not before the session is complete
    await worker.feed(ev.completed("ses-a"))
    assert worker.certified() == ["par-1"]
    trainer = await worker.doc("trainers", "trn-par-1")
    assert trainer["certificate_reference"].startswith("EMM2-TOT-2026-") and trainer["status"] == "active"
    # Their own language (par-1 prefers French and declared no other), not the session's fr + en.
    assert trainer["languages"] == ["fr"] and trainer["modules"] == ["migration-governance"]
    assert trainer["certified_at"] == "2026-05-20T17:00:00Z"
    assert await worker.doc("trainers", "trn-par-2") is None


async def test_redelivering_every_event_writes_nothing_and_publishes_nothing():
    worker = Worker()
    facts = [*session_of_two(), ev.completed("ses-a")]
    await worker.feed(*facts)
    before = await worker.projections()
    worker.store.round_trips.reset()
    await worker.feed(*facts, ev.completed("ses-a", at="2026-05-21T08:00:00Z"))
    assert worker.store.round_trips.writes == 0
    assert await worker.projections() == before and worker.certified() == ["par-1"]


async def test_facts_arriving_before_the_enrollment_and_the_session_are_kept_and_reconciled():
    worker = Worker()
    await worker.feed(ev.feedback("ses-b", 3), ev.attended("ses-b", 3, "2026-05-19"),
                      ev.attended("ses-b", 3, "2026-05-20"), ev.peer_rating("ses-b", 3), ev.completed("ses-b"),
                      ev.registered("ses-b", 3))
    assert worker.certified() == []  # the session itself is still unknown
    await worker.feed(ev.scheduled(ev.session("ses-b")))
    assert worker.certified() == ["par-3"]
    assert (await worker.doc("trainers", "trn-par-3"))["certified_at"] == "2026-05-20T17:00:00Z"


async def test_the_same_facts_in_any_order_give_the_same_projections():
    facts = [ev.scheduled(ev.session("ses-o")), *ev.certifiable("ses-o", 1), ev.completed("ses-o"),
             ev.updated({**ev.session("ses-o"), "sequence": 1, "city": "Saly"}, "city"),
             ev.attended("ses-o", 1, "2026-05-20", "absent", at="2026-05-20T18:00:00Z")]
    outcomes = []
    shuffle = random.Random(12).shuffle
    for _ in range(30):
        worker = Worker(decide=False)  # a rebuild: its cross-topic order is not the first run's
        shuffle(facts)
        await worker.feed(*facts)
        outcomes.append(await worker.projections())
    assert all(outcome == outcomes[0] for outcome in outcomes)


async def test_a_rebuild_decides_nothing_and_takes_the_trainer_from_the_record():
    live, rebuilt = Worker(), Worker(decide=False)
    facts = [*session_of_two(), ev.completed("ses-a")]
    await live.feed(*facts)
    # The record the rebuild reads back: emm.trainers' trainer events (the worker ignores the rest).
    record = [Event.from_document(entry) for entry in live.published if entry["type"].startswith("org.iom.emm.trainer.")]
    await rebuilt.feed(*facts)
    assert rebuilt.published == [] and await rebuilt.doc("trainers", "trn-par-1") is None
    await rebuilt.feed(*record)
    await live.feed(*record)  # read back from emm.trainers: already what the live worker wrote
    assert await rebuilt.projections() == await live.projections()


async def test_a_post_test_below_the_pass_mark_blocks_certification_and_one_above_it_does_not():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-p")), *ev.certifiable("ses-p", 1), *ev.certifiable("ses-p", 2),
                      ev.knowledge_score("ses-p", 1, 69.5), ev.knowledge_score("ses-p", 2, 70),
                      ev.knowledge_score("ses-p", 2, 30, phase="pre"), ev.completed("ses-p"))
    assert worker.certified() == ["par-2"]


async def test_a_post_test_recorded_after_completion_decides_again():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-l")), *ev.certifiable("ses-l", 1),
                      ev.knowledge_score("ses-l", 1, 55), ev.completed("ses-l"))
    assert worker.certified() == []
    # An older score arriving late changes nothing: the latest recorded stands.
    await worker.feed(ev.knowledge_score("ses-l", 1, 90, at="2026-05-20T14:00:00Z"))
    assert worker.certified() == []
    await worker.feed(ev.knowledge_score("ses-l", 1, 82, at="2026-05-22T10:00:00Z"))
    assert worker.certified() == ["par-1"]
    # Certified when the last fact it rests on, the corrected post-test, was recorded.
    assert (await worker.doc("trainers", "trn-par-1"))["certified_at"] == "2026-05-22T10:00:00Z"
    trainee = await worker.doc("trainees", "ses-l|par-1")
    assert trainee["knowledge"]["post"] == {"score": 82, "recorded_at": "2026-05-22T10:00:00Z"}


async def test_scores_are_rebuilt_from_their_events_like_every_other_fact():
    live, rebuilt = Worker(), Worker(decide=False)
    facts = [ev.scheduled(ev.session("ses-r")), *ev.certifiable("ses-r", 1), ev.knowledge_score("ses-r", 1, 40, "pre"),
             ev.knowledge_score("ses-r", 1, 85), ev.completed("ses-r")]
    await live.feed(*facts)
    record = [Event.from_document(entry) for entry in live.published if entry["type"].startswith("org.iom.emm.trainer.")]
    await rebuilt.feed(*reversed(facts), *record)
    assert await rebuilt.projections() == await live.projections()
    assert (await rebuilt.doc("trainees", "ses-r|par-1"))["knowledge"]["pre"]["score"] == 40


async def test_an_anonymous_evaluation_counts_for_its_author_through_its_seal():
    worker = Worker()
    anonymous = ev.feedback("ses-s", 1, anonymous=True)
    anonymous.data["respondent_seal"] = seal_respondent(KEY.encode(), "ses-s", anonymous.data["submission_id"], "par-1")
    await worker.feed(ev.scheduled(ev.session("ses-s")), ev.registered("ses-s", 1), ev.attended("ses-s", 1, "2026-05-19"),
                      ev.attended("ses-s", 1, "2026-05-20"), ev.peer_rating("ses-s", 1), anonymous,
                      ev.completed("ses-s"))
    assert worker.certified() == ["par-1"]
    session = await worker.doc("sessions", "ses-s")
    assert session["respondents"] == [respondent_ref(KEY.encode(), "ses-s", "par-1")]


async def test_an_old_anonymous_evaluation_with_only_a_respondent_ref_counts_for_whoever_has_that_ref():
    worker = Worker()
    ref = respondent_ref(KEY.encode(), "ses-r", "par-1")
    await worker.feed(ev.scheduled(ev.session("ses-r")), *ev.certifiable("ses-r", 1)[:-2], ev.peer_rating("ses-r", 1),
                      ev.completed("ses-r"))
    assert worker.certified() == []  # no evaluation yet
    await worker.feed(ev.feedback("ses-r", 1, anonymous=True, respondent_ref=ref))
    assert worker.certified() == ["par-1"]


async def test_an_anonymous_evaluation_whose_seal_does_not_open_is_poison():
    worker = Worker()
    forged = ev.feedback("ses-f", 1, anonymous=True)
    forged.data["respondent_seal"] = "x" * 40
    with pytest.raises(PoisonEvent, match="anonymous evaluation"):
        await worker.feed(forged)


async def test_government_deliveries_count_for_their_facilitators_until_removed():
    worker = Worker()
    gov = ev.session("gov-1", kind="government_delivery", facilitators=("par-1", "par-2"))
    await worker.feed(ev.scheduled(gov), ev.scheduled(ev.session("gov-2", kind="government_delivery",
                                                                 facilitators=("par-1",))))
    # Scheduled is upcoming, not delivered (issue 14: it counted months before it happened).
    assert (await worker.doc("facilitators", "par-1"))["government_sessions"] == []
    assert (await worker.doc("facilitators", "par-1"))["upcoming_sessions"] == ["gov-1", "gov-2"]
    await worker.feed(ev.completed("gov-1"), ev.completed("gov-2"))
    assert (await worker.doc("facilitators", "par-1"))["government_sessions"] == ["gov-1", "gov-2"]
    assert (await worker.doc("facilitators", "par-1"))["upcoming_sessions"] == []
    await worker.feed(ev.updated({**gov, "facilitator_ids": ["par-1"], "sequence": 1}, "facilitator_ids"))
    assert (await worker.doc("facilitators", "par-2"))["government_sessions"] == []


async def test_a_trainers_languages_are_those_they_declared_not_those_of_the_sessions_they_attended():
    # Issue 14: an English speaker from Nigeria was found by a search for Portuguese speakers.
    worker = Worker()
    session = {**ev.session("ses-l"), "languages": ["en", "pt"]}
    chidi = ev.registered("ses-l", 2)
    chidi.data["participant"].update(country="NG", preferred_language="en")
    ngozi = ev.registered("ses-l", 3)
    ngozi.data["participant"].update(country="NG", preferred_language="en", working_languages=["en", "fr"])
    await worker.feed(ev.scheduled(session), chidi, *ev.certifiable("ses-l", 2)[1:], ngozi,
                      *ev.certifiable("ses-l", 3)[1:], ev.completed("ses-l"))
    assert (await worker.doc("trainers", "trn-par-2"))["languages"] == ["en"]
    assert (await worker.doc("trainers", "trn-par-3"))["languages"] == ["fr", "en"]
    trainers = [trainer_from_doc((await worker.store.get("trainers", f"trn-par-{n}")).document) for n in (2, 3)]
    assert [t.participant_id for t in search_pool(trainers, language="pt")] == []
    assert [t.participant_id for t in search_pool(trainers, language="fr")] == ["par-3"]


# -- a crash between two writes of one event ---------------------------------------------------

async def after_a_crash(crash_at: int, prelude: list, event) -> tuple[Worker, Worker]:
    """The worker that crashed at its `crash_at`th write of `event` and got it again, and one
    that never crashed."""
    crashed, calm = Worker(Crashing()), Worker()
    for worker in (crashed, calm):
        await worker.feed(*prelude)
    crashed.store.crash_at = crash_at
    with pytest.raises(ConnectionError):
        await crashed.feed(event)
    await crashed.feed(event)  # not committed on the topic: delivered again
    await calm.feed(event)
    return crashed, calm


async def test_a_crash_between_the_trainee_and_the_session_index_is_repaired_by_the_redelivery():
    crashed, calm = await after_a_crash(2, [ev.scheduled(ev.session("ses-c"))], ev.registered("ses-c", 1))
    assert (await crashed.doc("sessions", "ses-c"))["participants"] == ["par-1"]
    assert await crashed.projections() == await calm.projections()


async def test_a_crash_before_the_trainer_insert_certifies_exactly_once_on_the_redelivery():
    prelude = [ev.scheduled(ev.session("ses-t")), *ev.certifiable("ses-t", 1)]
    crashed, calm = await after_a_crash(2, prelude, ev.completed("ses-t"))  # the session, then the trainer
    assert crashed.certified() == calm.certified() == ["par-1"]
    assert await crashed.projections() == await calm.projections()


async def test_a_crash_between_a_facilitator_and_the_session_still_removes_the_delivery():
    gov = ev.session("gov-c", kind="government_delivery", facilitators=("par-1", "par-2"))
    removal = ev.updated({**gov, "facilitator_ids": ["par-1"], "sequence": 1}, "facilitator_ids")
    crashed, calm = await after_a_crash(2, [ev.scheduled(gov)], removal)  # par-2's document, then the session
    assert (await crashed.doc("facilitators", "par-2"))["government_sessions"] == []
    assert await crashed.projections() == await calm.projections()


# -- what an event costs ---------------------------------------------------------------------

async def calls_of(worker: Worker, event) -> tuple[int, int]:
    worker.store.round_trips.reset()
    await worker.feed(event)
    return worker.store.round_trips.reads, worker.store.round_trips.writes


async def test_a_fact_about_a_known_participant_reads_two_documents_and_writes_one():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-k")), ev.registered("ses-k", 1))
    assert await calls_of(worker, ev.attended("ses-k", 1, "2026-05-19")) == (2, 1)
    assert await calls_of(worker, ev.peer_rating("ses-k", 1)) == (2, 1)
    assert await calls_of(worker, ev.attended("ses-k", 1, "2026-05-19")) == (2, 0)  # a redelivery
    # The first fact about a person also adds them to the session's index: one more write.
    assert await calls_of(worker, ev.registered("ses-k", 2)) == (2, 2)


async def test_a_change_of_a_completed_session_of_twenty_takes_at_most_25_calls():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-20")),
                      *(fact for n in range(1, 21) for fact in [*ev.certifiable("ses-20", n),
                                                                ev.knowledge_score("ses-20", n, 80)]))
    reads, writes = await calls_of(worker, ev.completed("ses-20"))
    assert len(worker.certified()) == 20
    assert reads + writes <= 25 and writes == 2  # the session, then the twenty trainers in one insert
    update = ev.updated({**ev.session("ses-20"), "sequence": 1, "status": "completed"}, "status")
    assert sum(await calls_of(worker, update)) <= 25 and len(worker.certified()) == 20


class NoAggregates:
    """The API's command side with nothing recorded: no questionnaire attached, no scores."""

    async def load(self, aggregate_id):
        return None


async def test_a_report_reads_the_sessions_trainees_and_responses_in_one_call_each():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-q")), *(f for n in range(1, 6) for f in ev.certifiable("ses-q", n)))
    none = NoAggregates()
    reader = ReportReader(worker.store, CommandSide(none, none, none, none, none, none, none))
    worker.store.round_trips.reset()
    facts = await reader.session_facts("ses-q")
    assert facts.registered == 5 and len(facts.responses) == 5
    assert dict(worker.store.round_trips.calls) == {("get", "sessions"): 1, ("get_many", "trainees"): 1,
                                                    ("get_many", "responses"): 1}


def out_of_reach(worker: Worker) -> list[dict]:
    return [entry["data"] for entry in worker.published if entry["type"] == "org.iom.emm.certification.out_of_reach.v1"]


async def test_an_absence_that_makes_the_attendance_rule_unreachable_tells_the_trainee_once():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-w")), ev.registered("ses-w", 1),
                      ev.attended("ses-w", 1, "2026-05-19"))
    assert out_of_reach(worker) == []  # 1 of 2 days so far, the second still open
    absent = ev.attended("ses-w", 1, "2026-05-20", "absent", at="2026-05-20T09:05:00Z")
    await worker.feed(absent, absent, ev.attended("ses-w", 1, "2026-05-20", "absent", at="2026-05-20T10:00:00Z"))
    assert out_of_reach(worker) == [{"participant_id": "par-1", "session_id": "ses-w", "days_attended": 1,
                                     "session_days": 2, "min_attendance_ratio": 0.8,
                                     "decided_at": "2026-05-20T09:05:00Z"}]


async def test_an_excused_day_counts_against_the_rule_but_a_government_delivery_tells_nobody():
    worker = Worker()
    await worker.feed(ev.scheduled(ev.session("ses-x")), ev.registered("ses-x", 1),
                      ev.attended("ses-x", 1, "2026-05-19", "excused"),
                      ev.scheduled(ev.session("ses-g", kind="government_delivery")), ev.registered("ses-g", 2),
                      ev.attended("ses-g", 2, "2026-05-19", "absent"))
    assert [d["participant_id"] for d in out_of_reach(worker)] == ["par-1"]


async def test_a_rebuild_tells_nobody_that_their_attendance_is_out_of_reach():
    worker = Worker(decide=False)
    await worker.feed(ev.scheduled(ev.session("ses-w")), ev.registered("ses-w", 1),
                      ev.attended("ses-w", 1, "2026-05-19", "absent"))
    assert out_of_reach(worker) == []
