"""The worker's event handlers: one pure transition per event type (emm_common.store.applier),
projecting registration and feedback events and certifying trainers.

Each transition names the documents it reads, by `_id`: the one the fact changes (a trainee, a
response) and its session (whose index of participants and respondents it keeps, and whose
status says whether certification is decided yet). Only once the session is a completed ToT
does it read more: the trainer, trainee and response documents of the people concerned (a
trainee carries their knowledge-test scores, from knowledge_score.recorded). Certification is
decided from those loaded documents, after the fact is
applied: the session must be completed (so attendance and the post-test are final), and then
the configurable rules (domain/certification.py) decide. The trainer document is inserted once,
keyed by trainer id, with `trainer.certified` in its outbox: a redelivered or replayed fact
finds it and publishes nothing. The `trainer.certified` events read back from the topic are the
record of what was decided: they set the trainer document's values. A rebuild
(publish_decisions=False) decides nothing itself and takes every certification from that
record, because the order in which it meets facts of different topics is not the first run's:
a late attendance correction may fall before or after the session's completion. So a rebuilt
projection matches the first exactly.

A government delivery's facilitators are written before its session: their change is computed
from the session as it was, so a crash in between is repaired when the event comes again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from emm_common.consumer import PoisonEvent
from emm_common.envelope import Event, new_event
from emm_common.store import BOOKKEEPING_FIELDS
from emm_common.store.applier import Key, Loaded, Transition, Write
from emm_evaluation.domain import certification as cert
from emm_evaluation.domain.attendance import attendance_out_of_reach, days_attended
from emm_evaluation.domain.certification import CertificationRules
from emm_evaluation.domain.errors import DomainError
from emm_evaluation.domain.peer_feedback import PeerRating, best_rubric_average
from emm_evaluation.domain.respondents import InvalidSeal, open_seal, respondent_ref
from emm_evaluation.service_layer import projections as p

SOURCE = "/emm/evaluation"
SESSIONS, TRAINEES, RESPONSES, FACILITATORS, TRAINERS = "sessions", "trainees", "responses", "facilitators", "trainers"
# Trainees told that their attendance can no longer meet the rule: one insert-once document each.
ATTENDANCE_WARNINGS = "attendance_warnings"
ATTENDANCE = "org.iom.emm.attendance.recorded.v1"
OUT_OF_REACH = "org.iom.emm.certification.out_of_reach.v1"
PROJECTIONS = (SESSIONS, TRAINEES, RESPONSES, FACILITATORS, TRAINERS)
SESSION_EVENTS = ("org.iom.emm.session.scheduled.v1", "org.iom.emm.session.updated.v1",
                  "org.iom.emm.session.completed.v1", "org.iom.emm.session.cancelled.v1",
                  p.SESSION_EVALUATION_CLOSED)
# Facts about one person in one session: the payload field naming the person, and the transition.
PERSON_FACTS = {
    **{event_type: ("participant_id", lambda doc, event: p.apply_enrollment_event(doc, event.type, event.data))
       for event_type in p.STATUS_OF_ENROLLMENT_EVENT},
    "org.iom.emm.attendance.recorded.v1": ("participant_id", lambda doc, event: p.apply_attendance(doc, event.data)),
    "org.iom.emm.peer_feedback.submitted.v1": ("trainee_participant_id",
                                               lambda doc, event: p.apply_peer_rating(doc, event.data)),
    # A post-test recorded after completion decides again, like any other fact about the person.
    "org.iom.emm.knowledge_score.recorded.v1": ("participant_id",
                                                lambda doc, event: p.apply_knowledge_score(doc, event.data)),
}
FEEDBACK = "org.iom.emm.feedback.submitted.v1"
TRAINER_CERTIFIED = "org.iom.emm.trainer.certified.v1"
TRAINER_REVOKED = "org.iom.emm.trainer.revoked.v1"


def session_id_of(data: dict) -> str:
    return data["session"]["session_id"] if "session" in data else data["session_id"]


def trainee_key(session_id: str, participant_id: str) -> Key:
    return TRAINEES, p.trainee_id(session_id, participant_id)


def trainer_key(participant_id: str) -> Key:
    return TRAINERS, cert.trainer_id_for(participant_id)


class EvaluationTransitions:
    """The transition table of the evaluation worker."""

    def __init__(self, rules: CertificationRules, respondent_key: bytes, publish_decisions: bool = True) -> None:
        self.rules = rules
        self.respondent_key = respondent_key
        self.publish_decisions = publish_decisions

    def table(self) -> dict[str, Transition]:
        table = {event_type: Transition(self.session_reads, self.on_session) for event_type in SESSION_EVENTS}
        table.update({event_type: Transition(self.person_fact_reads, self.on_person_fact) for event_type in PERSON_FACTS})
        table[FEEDBACK] = Transition(self.feedback_reads, self.on_feedback)
        table[TRAINER_CERTIFIED] = Transition(self.trainer_reads, self.on_trainer_certified)
        table[TRAINER_REVOKED] = Transition(self.trainer_reads, self.on_trainer_revoked)
        return table

    # -- sessions ------------------------------------------------------------------------------

    def session_reads(self, event: Event, loaded: Loaded) -> list[Key]:
        session_id = session_id_of(event.data)
        if (SESSIONS, session_id) not in loaded:
            return [(SESSIONS, session_id)]
        before = loaded.get(SESSIONS, session_id)
        after = p.apply_session_event(before, event.type, event.data)
        facilitators = p.government_facilitators(before) | p.government_facilitators(after)
        return [*((FACILITATORS, pid) for pid in sorted(facilitators)),
                *self.decision_reads(loaded, after, after.get("participants", []))]

    def on_session(self, loaded: Loaded, event: Event) -> list[Write]:
        session_id = session_id_of(event.data)
        before = loaded.get(SESSIONS, session_id)
        after = p.apply_session_event(before, event.type, event.data)
        # Government deliveries count for their facilitators once completed, as upcoming before (and stop
        # counting when they are removed or the session is cancelled).
        was, now = p.government_facilitators(before), p.government_facilitators(after)
        state = p.delivery_state(after)
        writes = [Write(FACILITATORS, p.apply_delivery(loaded.get(FACILITATORS, pid), pid, session_id,
                                                       state if pid in now else None))
                  for pid in sorted(was | now)]
        writes.append(Write(SESSIONS, after))
        return writes + self.decisions(loaded, after, after.get("participants", []), {})

    # -- one person in one session -------------------------------------------------------------

    def person_fact_reads(self, event: Event, loaded: Loaded) -> list[Key]:
        session_id, participant_id = event.data["session_id"], event.data[PERSON_FACTS[event.type][0]]
        first = [(SESSIONS, session_id), trainee_key(session_id, participant_id)]
        if not all(key in loaded for key in first):
            return first
        session = loaded.get(*first[0])
        # The warning's document is read only when this mark leaves the rule out of reach.
        trainee = PERSON_FACTS[event.type][1](loaded.get(*first[1]), event)
        warning = [(ATTENDANCE_WARNINGS, trainee["_id"])] if self.out_of_reach(event, session, trainee) else []
        return [*warning, *self.decision_reads(loaded, session, [participant_id])]

    def on_person_fact(self, loaded: Loaded, event: Event) -> list[Write]:
        field, transition = PERSON_FACTS[event.type]
        session_id, participant_id = event.data["session_id"], event.data[field]
        key = trainee_key(session_id, participant_id)
        trainee = transition(loaded.get(*key), event)
        session = p.with_participant(loaded.get(SESSIONS, session_id), session_id, participant_id)
        return [Write(TRAINEES, trainee), Write(SESSIONS, session),
                *self.attendance_warning(loaded, session, trainee, event),
                *self.decisions(loaded, session, [participant_id], {key: trainee})]

    def attendance_warning(self, loaded: Loaded, session: dict, trainee: dict, event: Event) -> list[Write]:
        """certification.out_of_reach, once, when an attendance mark leaves a ToT trainee unable to
        attend the share of days the rule needs (a rebuild decides nothing, so tells nobody)."""
        if not self.out_of_reach(event, session, trainee) or loaded.get(ATTENDANCE_WARNINGS, trainee["_id"]):
            return []
        days = [date.fromisoformat(day) for day in session["session"]["days"]]
        marks = {date.fromisoformat(day): status for day, status in p.latest_marks(trainee).items()}
        payload = {"participant_id": trainee["participant_id"], "session_id": session["_id"],
                   "days_attended": days_attended(marks, days), "session_days": len(days),
                   "min_attendance_ratio": self.rules.min_attendance_ratio, "decided_at": event.data["recorded_at"]}
        return [Write(ATTENDANCE_WARNINGS, {"_id": trainee["_id"], **payload},
                      (new_event(OUT_OF_REACH, payload, source=SOURCE),), once=True)]

    def out_of_reach(self, event: Event, session: dict | None, trainee: dict) -> bool:
        """Whether this attendance mark leaves a registered ToT trainee unable to meet the attendance rule."""
        snapshot = (session or {}).get("session") or {}
        if event.type != ATTENDANCE or not self.publish_decisions or snapshot.get("kind") != cert.CERTIFYING_KIND \
                or trainee.get("status") != "registered":
            return False
        days = [date.fromisoformat(day) for day in snapshot.get("days", ())]
        marks = {date.fromisoformat(day): status for day, status in p.latest_marks(trainee).items()}
        return attendance_out_of_reach(marks, days, self.rules.min_attendance_ratio)

    # -- evaluations ---------------------------------------------------------------------------

    def feedback_reads(self, event: Event, loaded: Loaded) -> list[Key]:
        session_id, participant_id, ref = self.respondent(event.data)
        first = [(SESSIONS, session_id), (RESPONSES, p.response_id(session_id, ref))]
        if not all(key in loaded for key in first):
            return first
        session = loaded.get(SESSIONS, session_id)
        return self.decision_reads(loaded, session, self.candidates(session, participant_id, ref))

    def on_feedback(self, loaded: Loaded, event: Event) -> list[Write]:
        session_id, participant_id, ref = self.respondent(event.data)
        key = (RESPONSES, p.response_id(session_id, ref))
        response = p.apply_feedback(loaded.get(*key), event.data, ref)
        session = p.with_respondent(loaded.get(SESSIONS, session_id), session_id, ref)
        return [Write(RESPONSES, response), Write(SESSIONS, session),
                *self.decisions(loaded, session, self.candidates(session, participant_id, ref), {key: response})]

    def respondent(self, data: dict) -> tuple[str, str | None, str]:
        """The session, the participant (None for an old anonymous event that carries only a
        respondent_ref: one per person and session) and the respondent_ref of an evaluation."""
        participant_id = self.respondent_of(data)
        ref = self.ref(data["session_id"], participant_id) if participant_id else data["respondent_ref"]
        return data["session_id"], participant_id, ref

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

    def candidates(self, session: dict | None, participant_id: str | None, ref: str) -> list[str]:
        """Whom an evaluation may certify: its author, or whichever participant has its ref."""
        if participant_id:
            return [participant_id]
        session_id = (session or {}).get("_id")
        return [pid for pid in (session or {}).get("participants", []) if self.ref(session_id, pid) == ref]

    def ref(self, session_id: str, participant_id: str) -> str:
        return respondent_ref(self.respondent_key, session_id, participant_id)

    def response_key(self, session_id: str, participant_id: str) -> Key:
        return RESPONSES, p.response_id(session_id, self.ref(session_id, participant_id))

    # -- the trainer pool, as published -----------------------------------------------------------

    def trainer_reads(self, event: Event, loaded: Loaded) -> list[Key]:
        return [(TRAINERS, event.data["trainer_id"])]

    def on_trainer_certified(self, loaded: Loaded, event: Event) -> list[Write]:
        """What was published is the record: the trainer document takes its values."""
        data = event.data
        fields = {key: data.get(key) for key in ("participant_id", "session_id", "certified_at",
                                                 "certificate_reference", "full_name", "languages", "country",
                                                 "modules")}
        current = loaded.get(TRAINERS, data["trainer_id"]) or {"_id": data["trainer_id"], "status": "active"}
        return [Write(TRAINERS, {**current, **fields})]

    def on_trainer_revoked(self, loaded: Loaded, event: Event) -> list[Write]:
        data = event.data
        current = loaded.get(TRAINERS, data["trainer_id"]) or {"_id": data["trainer_id"]}
        return [Write(TRAINERS, {**current, "participant_id": data["participant_id"], "status": "revoked",
                                 "revoked_at": data["revoked_at"], "revoked_by": data["revoked_by"],
                                 "revocation_reason": data["reason"]})]

    # -- certification ----------------------------------------------------------------------------

    def deciding(self, session: dict | None) -> bool:
        """Whether certification is decided now: not before the session is complete (attendance
        and post-test are final then), and never by a rebuild (it takes the first run's decisions
        from emm.trainers, whose order is fixed)."""
        return (self.publish_decisions and session is not None and session.get("session") is not None
                and p.session_status(session) == "completed" and session["session"]["kind"] == cert.CERTIFYING_KIND)

    def decision_reads(self, loaded: Loaded, session: dict, participant_ids: Iterable[str]) -> list[Key]:
        """What deciding needs once the fact's own documents are loaded: each person's trainer
        and trainee, then, for those not certified yet, their responses."""
        if not self.deciding(session):
            return []
        session_id = session["_id"]
        people = [key for pid in participant_ids for key in (trainer_key(pid), trainee_key(session_id, pid))]
        if not all(key in loaded for key in people):
            return people
        undecided = [pid for pid in participant_ids if loaded.get(*trainer_key(pid)) is None]
        if not undecided:
            return []
        return [self.response_key(session_id, pid) for pid in undecided]

    def decisions(self, loaded: Loaded, session: dict, participant_ids: Iterable[str],
                  written: dict[Key, dict]) -> list[Write]:
        """A trainer document, inserted once with trainer.certified, for each of the people whom
        the rules now certify (`written`: the documents as this event leaves them)."""
        if not self.deciding(session):
            return []
        session_id = session["_id"]

        def current(key: Key) -> dict | None:
            return written[key] if key in written else loaded.get(*key)

        writes = []
        for pid in participant_ids:
            if loaded.get(*trainer_key(pid)) is not None:
                continue  # certified already: exactly one trainer.certified
            trainer = self.certification(
                session, current(trainee_key(session_id, pid)), current(self.response_key(session_id, pid)))
            if trainer is not None:
                payload = cert.trainer_certified_payload(trainer)
                writes.append(Write(TRAINERS, {"_id": trainer.trainer_id, "status": "active",
                                               **{k: v for k, v in payload.items() if k != "trainer_id"}},
                                    (new_event(TRAINER_CERTIFIED, payload, source=SOURCE),), once=True))
        return writes

    def certification(self, session: dict, trainee: dict | None, response: dict | None) -> cert.Trainer | None:
        """The trainer the participant becomes if the rules hold on these documents, else None."""
        if trainee is None or trainee.get("status") != "registered" or trainee.get("profile") is None:
            return None  # the enrollment has not arrived yet: decided again when it does
        decision = cert.decide(certification_facts(session, trainee, response), self.rules)
        if not decision.certified:
            return None
        ratings = p.ratings_of(trainee)
        profile = trainee["profile"]
        # Certified when the last fact it rests on was known: the same facts give the same date.
        fact_times = [session["completed_at"], *(r["submitted_at"] for r in ratings),
                      *(m.split("|", 1)[0] for m in trainee["marks"].values())]
        if response is not None:
            fact_times.append(response["submitted_at"])
        if post := (trainee.get("knowledge") or {}).get("post"):
            fact_times.append(post["recorded_at"])
        try:
            return cert.certify(
                decision, participant_id=trainee["participant_id"], full_name=profile["full_name"],
                # The person's own working languages, never the session's (an English speaker who
                # attended a bilingual session does not train in French); an event from before they
                # were asked carries none, and the preferred language stands for them.
                country=profile["country"],
                languages=profile.get("working_languages") or [profile["preferred_language"]],
                modules=sorted({r["module"] for r in ratings} or set(session["session"]["modules"])),
                session_id=session["_id"],
                certified_at=datetime.fromisoformat(max(fact_times).replace("Z", "+00:00")))
        except DomainError as exc:
            raise PoisonEvent(f"cannot certify {trainee['participant_id']}: {exc}") from exc


def certification_facts(session: dict, trainee: dict, response: dict | None) -> cert.CertificationFacts:
    """What the rules are checked on, from the projections of one person in one session."""
    days = [date.fromisoformat(day) for day in session["session"]["days"]]
    marks = {date.fromisoformat(day): status for day, status in p.latest_marks(trainee).items()}
    return cert.CertificationFacts(
        session_kind=session["session"]["kind"], days_attended=days_attended(marks, days),
        session_days=len(days), submitted_evaluation=response is not None,
        best_rubric_average=best_rubric_average(rating_of(r) for r in p.ratings_of(trainee)),
        post_test_score=p.knowledge_score(trainee, "post"))


def rating_of(data: dict) -> PeerRating:
    return PeerRating(
        peer_feedback_id=data["peer_feedback_id"], session_id=data["session_id"],
        trainee_participant_id=data["trainee_participant_id"], rater_participant_id=data["rater_participant_id"],
        rater_role=data["rater_role"], module=data["module"], scores=data["scores"],
        submitted_at=datetime.fromisoformat(data["submitted_at"].replace("Z", "+00:00")), comment=data.get("comment"))


def projection_snapshot(docs: list[dict]) -> list[dict]:
    """Documents as compared after a rebuild: without the outbox and the version (the relay's and
    the store's bookkeeping, not state)."""
    return sorted(({k: v for k, v in doc.items() if k not in BOOKKEEPING_FIELDS} for doc in docs),
                  key=lambda d: d["_id"])
