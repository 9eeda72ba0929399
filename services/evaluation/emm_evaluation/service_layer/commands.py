"""The evaluation service's commands: load the command-side aggregate, let the domain decide,
commit the new version with its events in one insert (emm_common.documents.change_aggregate).

Checks of who may do what read the worker's projections (sessions, trainees, trainers), never
registration's database; the API never writes a projection. The events committed here are
consumed back by the worker, which updates the projections.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable

from emm_common.auth import Principal
from emm_common.documents import AggregateStore, KeyedLocks, VersionConflict, change_aggregate
from emm_common.envelope import new_event
from emm_common.store import DocumentStore
from emm_evaluation.domain import certification as cert
from emm_evaluation.domain import deliveries as dl
from emm_evaluation.domain.certification import CertificationRules
from emm_evaluation.domain import feedback as fb
from emm_evaluation.domain import peer_feedback as peer
from emm_evaluation.domain.errors import Conflict, Forbidden, NotFound
from emm_evaluation.domain.knowledge_test import KnowledgeScores, record_score, score_recorded_payload
from emm_evaluation.domain.quotes import check_picks, chosen, quotable
from emm_evaluation.domain.respondents import respondent_ref, seal_respondent
from emm_evaluation.domain.timestamps import utc_iso
from emm_evaluation.domain.questionnaire import (DEFAULT_QUESTIONNAIRE_ID, questionnaire_from_dict,
                                                 questionnaire_to_dict)
from emm_evaluation.service_layer import projections as p
from emm_evaluation.service_layer.handlers import certification_facts
from emm_evaluation.service_layer.reports import CommandSide, ReportReader

SOURCE = "/emm/evaluation"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Outcome:
    """What a submission command did: `replaced` is the id it replaced; `duplicate` a retried request."""

    record: dict[str, Any]
    replaced: str | None = None
    duplicate: bool = False


class Evaluation:
    """Application service of the evaluation bounded context (API side)."""

    def __init__(self, store: DocumentStore, command: CommandSide, respondent_key: bytes,
                 rules: CertificationRules = CertificationRules(), clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store  # the worker's projections, read only
        self.command = command
        self.reader = ReportReader(store, command, rules)
        self.rules = rules
        self.respondent_key = respondent_key
        self.clock = clock
        self.locks = KeyedLocks()

    async def _commit(self, store: AggregateStore, aggregate_id: str, change) -> int | None:
        try:
            return await change_aggregate(store, aggregate_id, change, self.locks)
        except VersionConflict:
            raise Conflict(aggregate_id, "too many concurrent changes; try again") from None

    # -- questionnaires ------------------------------------------------------------------------

    async def create_questionnaire(self, body: dict[str, Any]) -> dict[str, Any]:
        questionnaire_id = body.get("questionnaire_id") or f"q-{uuid.uuid4().hex[:12]}"
        if questionnaire_id == DEFAULT_QUESTIONNAIRE_ID:
            raise Conflict("questionnaire_id", "is the default questionnaire's id")
        questionnaire = questionnaire_to_dict(questionnaire_from_dict(
            {**body, "questionnaire_id": questionnaire_id, "version": 1}))

        def create(current):
            if current is not None:
                raise Conflict("questionnaire_id", f"{questionnaire_id} exists already; revise it with PUT")
            return {"versions": [questionnaire]}, []

        await self._commit(self.command.questionnaires, questionnaire_id, create)
        return questionnaire

    async def revise_questionnaire(self, questionnaire_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if questionnaire_id == DEFAULT_QUESTIONNAIRE_ID:
            raise Conflict("questionnaire_id", "the default questionnaire cannot change; create your own")
        revised: dict[str, Any] = {}

        def revise(current):
            if current is None:
                raise NotFound("questionnaire_id", f"no questionnaire {questionnaire_id}")
            latest = questionnaire_from_dict(current.state["versions"][-1])
            new = questionnaire_from_dict({**questionnaire_to_dict(latest), **changes,
                                           "version": latest.version + 1, "questionnaire_id": questionnaire_id})
            revised["value"] = questionnaire_to_dict(new)
            return {"versions": [*current.state["versions"], revised["value"]]}, []

        await self._commit(self.command.questionnaires, questionnaire_id, revise)
        return revised["value"]

    async def attach_questionnaire(self, session_id: str, questionnaire_id: str,
                                   version: int | None = None) -> dict[str, Any]:
        """The session's evaluation uses this questionnaire version (the newest unless named)."""
        await self.reader.session_doc(session_id)
        questionnaire = await self.reader.questionnaire(questionnaire_id, version)
        attachment = {"questionnaire_id": questionnaire.questionnaire_id, "version": questionnaire.version}
        await self._commit(self.command.attachments, session_id, lambda current: (attachment, []))
        return attachment

    # -- evaluations ---------------------------------------------------------------------------

    async def submit_feedback(self, who: Principal, session_id: str, body: dict[str, Any]) -> Outcome:
        if who.role != "participant" or who.session_id != session_id or not who.enrollment_id:
            raise Forbidden("session_id", "needs a participant token scoped to an enrollment in this session")
        session = await self.reader.session_doc(session_id)
        trainee = await self.reader.trainee(session_id, who.subject)
        if trainee is None or trainee.get("status") is None:
            # The token proves an enrollment registration made; its event has not reached us yet.
            raise Conflict("enrollment_id", "your enrollment has not reached the evaluation service yet; "
                                            "try again in a moment")
        if trainee.get("enrollment_id") not in (None, who.enrollment_id):
            raise Forbidden("enrollment_id", "the token's enrollment is not this participant's in this session")
        fb.check_can_submit(trainee["status"], p.session_status(session),
                            date.fromisoformat(session["session"]["start_date"]), self.clock().date(),
                            session.get("evaluation_closed_at"))
        questionnaire = await self.reader.questionnaire_of(session_id)
        submission_id = body.get("submission_id") or f"fbk-{uuid.uuid4().hex[:16]}"
        key = f"{session_id}|{who.subject}|{questionnaire.questionnaire_id}"
        outcome: dict[str, Any] = {}

        def submit(current):
            earlier = submission_from_state(current.state) if current else None
            recorded = fb.submit_feedback(
                questionnaire, submission_id=submission_id, session_id=session_id, participant_id=who.subject,
                anonymous=body.get("anonymous", False), language=body.get("language"),
                answers=body.get("answers"), submitted_at=self.clock(), earlier=earlier,
                quote_consent=body.get("quote_consent"))
            payload = fb.to_event_payload(recorded.submission)
            outcome["value"] = Outcome(payload, recorded.replaced, recorded.duplicate)
            if recorded.duplicate:
                return None
            if recorded.submission.anonymous:  # so this service can count it for certification
                payload["respondent_seal"] = seal_respondent(self.respondent_key, session_id, submission_id,
                                                             who.subject)
            state = {**payload, "participant_id": who.subject}
            return state, [new_event("org.iom.emm.feedback.submitted.v1", payload, source=SOURCE)]

        await self._commit(self.command.feedback, key, submit)
        return outcome["value"]

    async def submit_peer_feedback(self, who: Principal, session_id: str, body: dict[str, Any]) -> Outcome:
        session = await self.reader.session_doc(session_id)
        if who.role == "facilitator" and who.subject in (session["session"].get("facilitator_ids") or ()):
            rater_role = "facilitator"
        elif who.role == "participant" and who.session_id == session_id:
            rater = await self.reader.trainee(session_id, who.subject)
            if rater is None or rater.get("status") != "registered":
                raise Forbidden("rater_participant_id", "is not registered in this session")
            rater_role = "peer"
        else:
            raise Forbidden("rater_participant_id", "only a facilitator or a participant of this session may rate")
        trainee_id = body.get("trainee_participant_id")
        trainee = await self.reader.trainee(session_id, trainee_id) if isinstance(trainee_id, str) else None
        if trainee is None or trainee.get("status") != "registered":
            raise NotFound("trainee_participant_id", "is not a registered participant of this session")
        rating = peer.rate_delivery(
            peer_feedback_id=body.get("peer_feedback_id") or f"pfb-{uuid.uuid4().hex[:16]}", session_id=session_id,
            trainee_participant_id=trainee_id, rater_participant_id=who.subject, rater_role=rater_role,
            module=body.get("module"), scores=body.get("scores"), submitted_at=self.clock(),
            comment=body.get("comment"), session_modules=session["session"].get("modules"))
        outcome: dict[str, Any] = {}

        def record(current):
            earlier = rating_from_state(current.state) if current else None
            recorded = peer.record_rating(rating, earlier)
            payload = peer.to_event_payload(recorded.rating)
            outcome["value"] = Outcome(payload, recorded.replaced, recorded.duplicate)
            if recorded.duplicate:
                return None
            return payload, [new_event("org.iom.emm.peer_feedback.submitted.v1", payload, source=SOURCE)]

        await self._commit(self.command.peer_feedback, "|".join(rating.key()), record)
        return outcome["value"]

    async def record_score(self, session_id: str, participant_id: str, phase: str, score: Any,
                           recorded_by: str) -> KnowledgeScores:
        """Record a pre- or post-test score, published as knowledge_score.recorded (the same score
        again is a retried request: nothing new is recorded or published)."""
        await self.reader.session_doc(session_id)
        trainee = await self.reader.trainee(session_id, participant_id)
        if trainee is None or trainee.get("status") != "registered":
            raise NotFound("participant_id", "is not a registered participant of this session")
        result: dict[str, Any] = {}

        def record(current):
            state = dict(current.state) if current else {}
            earlier = state.get(participant_id)
            before = KnowledgeScores(participant_id, **earlier) if earlier else None
            scores = record_score(before, participant_id, phase, score)
            result["value"] = scores
            if before is not None and getattr(before, phase) == getattr(scores, phase):
                return None
            state[participant_id] = {"pre": scores.pre, "post": scores.post}
            payload = score_recorded_payload(session_id, scores, phase, pass_mark=self.rules.post_test_pass_mark,
                                             recorded_by=recorded_by, recorded_at=self.clock())
            return state, [new_event("org.iom.emm.knowledge_score.recorded.v1", payload, source=SOURCE)]

        await self._commit(self.command.scores, session_id, record)
        return result["value"]

    async def choose_quotes(self, session_id: str, picks: list[dict[str, Any]], chosen_by: str) -> list[dict]:
        """The quotes an organizer picks for the session's write-up, each a (submission_id, item_id)
        of a comment its author agreed to have quoted; the new list replaces the old one."""
        facts = await self.reader.session_facts(session_id)
        wanted = [(pick["submission_id"], pick["item_id"]) for pick in picks]
        candidates = quotable(facts.questionnaire.items, facts.responses)
        checked = check_picks(wanted, candidates)
        selection = {"picks": [list(pick) for pick in checked], "chosen_by": chosen_by,
                     "chosen_at": utc_iso(self.clock())}
        await self._commit(self.command.quotes, session_id, lambda current: (selection, []))
        return [vars(quote) for quote in chosen(checked, candidates)]

    # -- trainer pool --------------------------------------------------------------------------

    async def revoke(self, trainer_id: str, reason: Any, revoked_by: str) -> dict[str, Any]:
        found = await self.store.get("trainers", trainer_id)
        if found is None:
            raise NotFound("trainer_id", f"no certified trainer {trainer_id}")
        revoked = cert.revoke(trainer_from_doc(found.document), reason=reason, revoked_by=revoked_by, revoked_at=self.clock())
        payload = cert.trainer_revoked_payload(revoked)

        def revoke_once(current):
            if current is not None:
                raise Conflict("status", "the trainer's certification is already revoked")
            return payload, [new_event("org.iom.emm.trainer.revoked.v1", payload, source=SOURCE)]

        await self._commit(self.command.revocations, trainer_id, revoke_once)
        return payload

    async def certification_status(self, session_id: str, participant_id: str) -> dict[str, Any]:
        """Where a participant of a training of trainers stands: certified or not, and each rule
        with their figure, the threshold and whether it is met (NotFound if not a participant)."""
        session = await self.reader.session_doc(session_id)
        trainee = await self.reader.trainee(session_id, participant_id)
        if trainee is None or trainee.get("status") is None or trainee.get("profile") is None:
            raise NotFound("participant_id", "is not a participant of this session (or not projected yet)")
        ref = respondent_ref(self.respondent_key, session_id, participant_id)
        response = await self.store.get("responses", p.response_id(session_id, ref))
        facts = certification_facts(session, trainee, response.document if response else None)
        scores = KnowledgeScores(participant_id, p.knowledge_score(trainee, "pre"), p.knowledge_score(trainee, "post"))
        trainer = await self.store.get("trainers", cert.trainer_id_for(participant_id))
        certified = trainer is not None and trainer.document.get("session_id") == session_id
        kind, status = session["session"]["kind"], p.session_status(session)
        return {
            "session_id": session_id, "participant_id": participant_id,
            "full_name": trainee["profile"]["full_name"], "session_kind": kind,
            "status": status, "enrollment_status": trainee["status"], "certified": certified,
            "certificate_reference": trainer.document.get("certificate_reference") if certified else None,
            # Decided once the session is completed; until then the figures are as they stand.
            "final": status == "completed",
            "rules": [vars(check) for check in cert.assess(facts, self.rules)]
            if kind == cert.CERTIFYING_KIND else [],
            "knowledge_test": {**vars(scores), "gain": scores.gain, "pass_mark": self.rules.post_test_pass_mark}}

    async def certificate(self, participant_id: str) -> dict[str, Any]:
        """A participant's certification as a trainer (revoked ones included), or NotFound."""
        found = await self.store.get("trainers", cert.trainer_id_for(participant_id))
        if found is None or not found.document.get("certified_at"):
            raise NotFound("participant_id", f"{participant_id} is not a certified trainer")
        trainer = trainer_from_doc(found.document)
        return {**cert.trainer_certified_payload(trainer), "status": trainer.status}

    async def certificate_by_reference(self, reference: str) -> dict[str, Any]:
        """The certificate with this reference (revoked ones included), or NotFound. The pool is read
        whole: a reference is not an _id, and the pool holds hundreds of trainers, not millions."""
        for doc in await self.store.all("trainers"):
            if doc.document.get("certified_at") and doc.document.get("certificate_reference") == reference:
                trainer = trainer_from_doc(doc.document)
                return {**cert.trainer_certified_payload(trainer), "status": trainer.status,
                        "revoked_at": trainer.revoked_at}
        raise NotFound("certificate_reference", f"no certificate {reference}")

    async def trainer_pool(self, offset: int = 0, limit: int | None = None, delivered_since: date | None = None,
                           **filters: Any) -> list[dict[str, Any]]:
        """The trainers matching `filters` (and, if given, who held a government training that
        ended on or after `delivered_since`), by name: `limit` of them from `offset` (all by default)."""
        trainers = [trainer_from_doc(doc.document) for doc in await self.store.all("trainers")
                    if doc.document.get("certified_at")]
        matching = cert.search_pool(trainers, **filters)
        if delivered_since is not None:
            every = await self.deliveries([trainer.participant_id for trainer in matching])
            matching = [t for t in matching if dl.delivered_since(every[t.participant_id][0], delivered_since)]
        page = matching[offset:None if limit is None else offset + limit]
        # Deliveries are read only for the trainers on the page, in three calls.
        deliveries = await self.deliveries([trainer.participant_id for trainer in page])
        found = []
        for trainer in page:
            done, upcoming = deliveries[trainer.participant_id]
            held = dl.held(done)
            found.append({**cert.trainer_certified_payload(trainer), "status": trainer.status,
                          "government_sessions_delivered": len(held),
                          "delivered_session_ids": [d.session_id for d in held],
                          "participants_reached": sum(d.participants_reached for d in held),
                          "deliveries": [{"session_id": d.session_id, "end_date": d.end_date.isoformat(),
                                          "participants_reached": d.participants_reached} for d in held],
                          "upcoming_session_ids": upcoming})
        return found

    async def deliveries(self, participant_ids: list[str]) -> dict[str, tuple[list[dl.Delivery], list[str]]]:
        """Each trainer's completed government trainings and the ids of their upcoming ones: one
        call for the facilitators, one for the sessions, one for those sessions' trainees."""
        facilitators = await self.store.get_many("facilitators", participant_ids)
        completed = {pid: (found.document.get("government_sessions") or []) if (found := facilitators.get(pid)) else []
                     for pid in participant_ids}
        session_ids = sorted({sid for ids in completed.values() for sid in ids})
        sessions = await self.store.get_many("sessions", session_ids) if session_ids else {}
        trainee_ids = [p.trainee_id(sid, pid) for sid in sessions
                       for pid in sessions[sid].document.get("participants", [])]
        trainees = await self.store.get_many("trainees", trainee_ids) if trainee_ids else {}
        held = {}
        for sid, found in sessions.items():
            marks = [{date.fromisoformat(day): status for day, status in p.latest_marks(t.document).items()}
                     for pid in found.document.get("participants", [])
                     if (t := trainees.get(p.trainee_id(sid, pid))) and t.document.get("status") == "registered"]
            held[sid] = dl.delivery(sid, date.fromisoformat(found.document["session"]["end_date"]), marks)
        return {pid: ([held[sid] for sid in completed[pid] if sid in held],
                      (found.document.get("upcoming_sessions") or []) if (found := facilitators.get(pid)) else [])
                for pid in participant_ids}

def submission_from_state(state: dict[str, Any]) -> fb.FeedbackSubmission:
    return fb.FeedbackSubmission(
        submission_id=state["submission_id"], session_id=state["session_id"],
        questionnaire_id=state["questionnaire_id"], questionnaire_version=state["questionnaire_version"],
        participant_id=state["participant_id"], anonymous=state["anonymous"], language=state["language"],
        answers=tuple(state["answers"]), submitted_at=parse_time(state["submitted_at"]),
        replaces_submission_id=state.get("replaces_submission_id"), quote_consent=state.get("quote_consent"))


def rating_from_state(state: dict[str, Any]) -> peer.PeerRating:
    return peer.PeerRating(
        peer_feedback_id=state["peer_feedback_id"], session_id=state["session_id"],
        trainee_participant_id=state["trainee_participant_id"], rater_participant_id=state["rater_participant_id"],
        rater_role=state["rater_role"], module=state["module"], scores=state["scores"],
        submitted_at=parse_time(state["submitted_at"]), comment=state.get("comment"))


def trainer_from_doc(doc: dict[str, Any]) -> cert.Trainer:
    return cert.Trainer(
        trainer_id=doc["_id"], participant_id=doc["participant_id"], full_name=doc.get("full_name") or "",
        country=doc["country"], languages=tuple(doc["languages"]), modules=tuple(doc["modules"]),
        session_id=doc["session_id"], certified_at=parse_time(doc["certified_at"]),
        certificate_reference=doc["certificate_reference"], status=doc.get("status", "active"),
        revoked_at=parse_time(doc["revoked_at"]) if doc.get("revoked_at") else None,
        revoked_by=doc.get("revoked_by"), revocation_reason=doc.get("revocation_reason"))


