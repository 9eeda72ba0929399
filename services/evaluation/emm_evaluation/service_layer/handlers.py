"""The worker's event handlers: project registration and feedback events, and certify trainers.

The worker is the only writer of the projection collections and applies events one at a time,
so each handler reads the documents it changes by `_id`, applies a pure transition
(projections.py) and writes the result back only when it changed.

Certification is decided here, after every fact about a participant of a ToT: the session
must be completed (so attendance and the post-test are final), and then the configurable rules
(domain/certification.py) decide. The trainer document is inserted once, keyed by trainer id,
with `trainer.certified` in its outbox: a redelivered or replayed fact finds it and publishes
nothing. The `trainer.certified` events read back from the topic are the record of what was
decided: they overwrite the trainer document. A rebuild worker (publish_decisions=False) decides
nothing itself and takes every certification from that record, because the order in which it
meets facts of different topics is not the first run's: a late attendance correction may fall
before or after the session's completion. So a rebuilt projection matches the first exactly.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from emm_common import outbox
from emm_common.consumer import PoisonEvent
from emm_common.documents import AggregateStore, outbox_map
from emm_common.envelope import Event, new_event
from emm_evaluation.domain import certification as cert
from emm_evaluation.domain.attendance import days_attended
from emm_evaluation.domain.certification import CertificationRules
from emm_evaluation.domain.errors import DomainError
from emm_evaluation.domain.respondents import InvalidSeal, open_seal, respondent_ref
from emm_evaluation.domain.peer_feedback import PeerRating, best_rubric_average
from emm_evaluation.service_layer import projections as p

SOURCE = "/emm/evaluation"
PROJECTIONS = ("sessions", "trainees", "responses", "facilitators", "trainers")


class Projector:
    """Applies consumed events to the evaluation service's projections."""

    def __init__(self, database: Any, rules: CertificationRules, respondent_key: bytes,
                 publish_decisions: bool = True) -> None:
        self.db = database
        self.rules = rules
        self.respondent_key = respondent_key
        self.publish_decisions = publish_decisions
        self.scores = AggregateStore(database["knowledge_scores"])
        # Session indexes only grow, so what this process has seen indexed stays indexed: it spares
        # one read of the session document per event (the rebuild's main cost after the writes).
        self._indexed: set[tuple[str, str]] = set()

    def handlers(self) -> dict[str, Any]:
        handlers: dict[str, Any] = {t: self.on_session for t in (
            "org.iom.emm.session.scheduled.v1", "org.iom.emm.session.updated.v1",
            "org.iom.emm.session.completed.v1", "org.iom.emm.session.cancelled.v1")}
        handlers.update({t: self.on_enrollment for t in p.STATUS_OF_ENROLLMENT_EVENT})
        handlers["org.iom.emm.attendance.recorded.v1"] = self.on_attendance
        handlers["org.iom.emm.feedback.submitted.v1"] = self.on_feedback
        handlers["org.iom.emm.peer_feedback.submitted.v1"] = self.on_peer_feedback
        handlers["org.iom.emm.trainer.certified.v1"] = self.on_trainer_certified
        handlers["org.iom.emm.trainer.revoked.v1"] = self.on_trainer_revoked
        return handlers

    # -- reading and writing projection documents ---------------------------------------------

    async def load(self, collection: str, doc_id: str) -> dict | None:
        return await self.db[collection].find_one({"_id": doc_id})

    async def save(self, collection: str, before: dict | None, after: dict) -> None:
        if before != after:
            await self.db[collection].replace_one({"_id": after["_id"]}, after, upsert=True)

    async def set_fields(self, collection: str, doc_id: str, fields: dict, on_insert: dict | None = None) -> None:
        """$set only these fields: the relay of this process also writes the trainer document (its outbox)."""
        before = await self.load(collection, doc_id)
        if before is not None and all(before.get(k) == v for k, v in fields.items()):
            return
        update: dict = {"$set": fields}
        if on_insert:
            update["$setOnInsert"] = on_insert
        await self.db[collection].update_one({"_id": doc_id}, update, upsert=True)

    async def change(self, collection: str, doc_id: str, transition) -> dict:
        before = await self.load(collection, doc_id)
        after = transition(before)
        await self.save(collection, before, after)
        return after

    # -- handlers --------------------------------------------------------------------------------

    async def on_session(self, event: Event) -> None:
        data = event.data
        session_id = data["session"]["session_id"] if "session" in data else data["session_id"]
        before = await self.load("sessions", session_id)
        after = p.apply_session_event(before, event.type, data)
        await self.save("sessions", before, after)
        # Government deliveries count for their facilitators (and stop counting when removed or cancelled).
        was, now = p.government_facilitators(before), p.government_facilitators(after)
        for participant_id in sorted(was | now):
            await self.change("facilitators", participant_id,
                              lambda doc, pid=participant_id: p.apply_delivery(doc, pid, session_id, pid in now))
        for participant_id in after.get("participants", []):
            await self.reconsider(session_id, participant_id)

    async def on_enrollment(self, event: Event) -> None:
        data = event.data
        await self.change("trainees", p.trainee_id(data["session_id"], data["participant_id"]),
                          lambda doc: p.apply_enrollment_event(doc, event.type, data))
        await self.index_participant(data["session_id"], data["participant_id"])
        await self.reconsider(data["session_id"], data["participant_id"])

    async def on_attendance(self, event: Event) -> None:
        data = event.data
        await self.change("trainees", p.trainee_id(data["session_id"], data["participant_id"]),
                          lambda doc: p.apply_attendance(doc, data))
        await self.index_participant(data["session_id"], data["participant_id"])
        await self.reconsider(data["session_id"], data["participant_id"])

    async def on_peer_feedback(self, event: Event) -> None:
        data = event.data
        await self.change("trainees", p.trainee_id(data["session_id"], data["trainee_participant_id"]),
                          lambda doc: p.apply_peer_rating(doc, data))
        await self.index_participant(data["session_id"], data["trainee_participant_id"])
        await self.reconsider(data["session_id"], data["trainee_participant_id"])

    async def on_feedback(self, event: Event) -> None:
        data = event.data
        session_id = data["session_id"]
        participant_id = self.respondent_of(data)
        # Events published before seals existed carry only the respondent_ref (one per person and session).
        ref = self.ref(session_id, participant_id) if participant_id else data["respondent_ref"]
        await self.change("responses", p.response_id(session_id, ref), lambda doc: p.apply_feedback(doc, data, ref))
        session = await self.change("sessions", session_id, lambda doc: p.with_respondent(doc, session_id, ref))
        candidates = [participant_id] if participant_id else session.get("participants", [])
        for candidate in candidates:
            if self.ref(session_id, candidate) == ref:
                await self.reconsider(session_id, candidate)

    def respondent_of(self, data: dict) -> str | None:
        """Whose evaluation this is: named, or from the seal of an anonymous one (None for an old
        anonymous event that carries only a respondent_ref)."""
        if "participant_id" in data:
            return data["participant_id"]
        if "respondent_seal" in data:
            try:
                return open_seal(self.respondent_key, data["session_id"], data["submission_id"],
                                 data["respondent_seal"])
            except InvalidSeal as exc:
                raise PoisonEvent(f"anonymous evaluation {data['submission_id']}: {exc}") from exc
        if "respondent_ref" not in data:
            raise PoisonEvent("an evaluation with neither participant_id nor respondent_seal cannot be counted")
        return None

    async def on_trainer_certified(self, event: Event) -> None:
        """What was published is the record: the trainer document takes its values."""
        data = event.data
        fields = {key: data.get(key) for key in ("participant_id", "session_id", "certified_at",
                                                 "certificate_reference", "full_name", "languages", "country",
                                                 "modules")}
        await self.set_fields("trainers", data["trainer_id"], fields, on_insert={"status": "active"})

    async def on_trainer_revoked(self, event: Event) -> None:
        data = event.data
        await self.set_fields("trainers", data["trainer_id"], {
            "participant_id": data["participant_id"], "status": "revoked", "revoked_at": data["revoked_at"],
            "revoked_by": data["revoked_by"], "revocation_reason": data["reason"]})

    # -- certification ----------------------------------------------------------------------------

    def ref(self, session_id: str, participant_id: str) -> str:
        return respondent_ref(self.respondent_key, session_id, participant_id)

    async def index_participant(self, session_id: str, participant_id: str) -> None:
        if (session_id, participant_id) in self._indexed:
            return
        await self.change("sessions", session_id, lambda doc: p.with_participant(doc, session_id, participant_id))
        if len(self._indexed) > 200_000:
            self._indexed.clear()
        self._indexed.add((session_id, participant_id))

    async def reconsider(self, session_id: str, participant_id: str) -> None:
        """Certify the participant if every needed fact is now known and the rules hold."""
        if not self.publish_decisions:
            return  # a rebuild takes the decisions of the first run from emm.trainers (their order is fixed)
        session = await self.load("sessions", session_id)
        if session is None or session.get("session") is None or p.session_status(session) != "completed":
            return  # not decided before the session is complete: attendance and post-test are final then
        if session["session"]["kind"] != cert.CERTIFYING_KIND:
            return
        trainer_id = cert.trainer_id_for(participant_id)
        if await self.db["trainers"].find_one({"_id": trainer_id}, {"_id": 1}):
            return
        trainee = await self.load("trainees", p.trainee_id(session_id, participant_id))
        if trainee is None or trainee.get("status") != "registered" or trainee.get("profile") is None:
            return  # the enrollment has not arrived yet: decided again when it does
        response = await self.load("responses", p.response_id(session_id, self.ref(session_id, participant_id)))
        ratings = p.ratings_of(trainee)
        days = [date.fromisoformat(day) for day in session["session"]["days"]]
        marks = {date.fromisoformat(day): status for day, status in p.latest_marks(trainee).items()}
        post = await self.post_test_score(session_id, participant_id)
        facts = cert.CertificationFacts(
            session_kind=session["session"]["kind"], days_attended=days_attended(marks, days),
            session_days=len(days), submitted_evaluation=response is not None,
            best_rubric_average=best_rubric_average(rating_of(r) for r in ratings), post_test_score=post)
        decision = cert.decide(facts, self.rules)
        if not decision.certified:
            return
        profile = trainee["profile"]
        # Certified when the last fact it rests on was known: the same facts give the same date.
        fact_times = [session["completed_at"], *(r["submitted_at"] for r in ratings),
                      *(m.split("|", 1)[0] for m in trainee["marks"].values())]
        if response is not None:
            fact_times.append(response["submitted_at"])
        try:
            trainer = cert.certify(
                decision, participant_id=participant_id, full_name=profile["full_name"], country=profile["country"],
                languages=sorted({profile["preferred_language"], *session["session"]["languages"]}),
                modules=sorted({r["module"] for r in ratings} or set(session["session"]["modules"])),
                session_id=session_id, certified_at=datetime.fromisoformat(max(fact_times).replace("Z", "+00:00")))
        except DomainError as exc:
            raise PoisonEvent(f"cannot certify {participant_id}: {exc}") from exc
        await self.insert_trainer(trainer)

    async def post_test_score(self, session_id: str, participant_id: str) -> float | None:
        current = await self.scores.load(session_id)
        if current is None:
            return None
        return (current.state.get(participant_id) or {}).get("post")

    async def insert_trainer(self, trainer: cert.Trainer) -> None:
        payload = cert.trainer_certified_payload(trainer)
        events = [new_event("org.iom.emm.trainer.certified.v1", payload, source=SOURCE)]
        doc = {"_id": trainer.trainer_id, "status": "active",
               **{k: v for k, v in payload.items() if k != "trainer_id"}, "outbox": outbox_map(events, 1)}
        try:
            await self.db["trainers"].insert_one(doc)
        except DuplicateKeyError:
            return  # certified already: exactly one trainer.certified
        outbox.committed("trainers", trainer.trainer_id, doc["outbox"])


def rating_of(data: dict) -> PeerRating:
    return PeerRating(
        peer_feedback_id=data["peer_feedback_id"], session_id=data["session_id"],
        trainee_participant_id=data["trainee_participant_id"], rater_participant_id=data["rater_participant_id"],
        rater_role=data["rater_role"], module=data["module"], scores=data["scores"],
        submitted_at=datetime.fromisoformat(data["submitted_at"].replace("Z", "+00:00")), comment=data.get("comment"))


def projection_snapshot(docs: list[dict]) -> list[dict]:
    """Documents as compared after a rebuild: without the outbox (relay bookkeeping, not state)."""
    return sorted(({k: v for k, v in doc.items() if k != "outbox"} for doc in docs), key=lambda d: d["_id"])

