"""Reports from the worker's projections (read by `_id` through the session's index: one call for
its trainees, one for its responses) and this service's own questionnaires and scores.
Read-only: the API never writes a projection."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from dataclasses import dataclass
from typing import Callable

from emm_common.documents import AggregateStore
from emm_common.store import DocumentStore
from emm_evaluation.domain.attendance import ATTENDED_STATUSES
from emm_evaluation.domain.certification import CertificationRules
from emm_evaluation.domain.errors import NotFound
from emm_evaluation.domain.knowledge_test import KnowledgeScores
from emm_evaluation.domain.questionnaire import (DEFAULT_QUESTIONNAIRE_ID, Questionnaire, default_tot_questionnaire,
                                                 questionnaire_from_dict)
from emm_evaluation.domain.report import Profile, Response, SessionFacts, build_session_report
from emm_evaluation.domain.write_up import SessionStory
from emm_evaluation.service_layer import projections as p


@dataclass(frozen=True)
class CommandSide:
    """The service's own record: aggregates kept as immutable versions, each commit with its events."""

    questionnaires: AggregateStore
    attachments: AggregateStore  # session -> questionnaire version
    scores: AggregateStore  # session -> participant -> {pre, post}: what the API checks a new score against
    feedback: AggregateStore
    peer_feedback: AggregateStore
    revocations: AggregateStore
    quotes: AggregateStore  # session -> the (submission_id, item_id) an organizer picked for the write-up

    def outbox_collections(self) -> list:
        """The collections whose commits carry events for the relay."""
        return [self.feedback.collection, self.peer_feedback.collection, self.scores.collection,
                self.revocations.collection]


class ReportReader:
    """Gathers the facts reports are built from."""

    def __init__(self, store: DocumentStore, command: CommandSide,
                 rules: CertificationRules = CertificationRules()) -> None:
        self.store = store
        self.command = command
        self.pass_mark = rules.post_test_pass_mark

    async def session_doc(self, session_id: str) -> dict:
        found = await self.store.get("sessions", session_id)
        if found is None or found.document.get("session") is None:
            raise NotFound("session_id", f"no session {session_id} (or not projected yet)")
        return found.document

    async def trainee(self, session_id: str, participant_id: str) -> dict | None:
        found = await self.store.get("trainees", p.trainee_id(session_id, participant_id))
        return found.document if found else None

    async def questionnaire(self, questionnaire_id: str, version: int | None = None) -> Questionnaire:
        """A questionnaire (its newest version unless `version` is given)."""
        if questionnaire_id == DEFAULT_QUESTIONNAIRE_ID:
            return default_tot_questionnaire()
        current = await self.command.questionnaires.load(questionnaire_id)
        if current is None:
            raise NotFound("questionnaire_id", f"no questionnaire {questionnaire_id}")
        versions = current.state["versions"]
        chosen = versions[-1] if version is None else next((v for v in versions if v["version"] == version), None)
        if chosen is None:
            raise NotFound("questionnaire_version", f"{questionnaire_id} has no version {version}")
        return questionnaire_from_dict(chosen)

    async def questionnaire_of(self, session_id: str) -> Questionnaire:
        """The questionnaire attached to the session, else the default ToT evaluation."""
        attached = await self.command.attachments.load(session_id)
        if attached is None:
            return default_tot_questionnaire()
        return await self.questionnaire(attached.state["questionnaire_id"], attached.state["version"])

    async def session_facts(self, session_id: str, sex: str | None = None) -> SessionFacts:
        doc = await self.session_doc(session_id)
        ids = [p.trainee_id(session_id, pid) for pid in doc.get("participants", [])]
        found = await self.store.get_many("trainees", ids)
        trainees = [found[i].document for i in ids if i in found]
        registered = [t for t in trainees if t.get("status") == "registered"]
        by_participant = {t["participant_id"]: t for t in trainees}
        days = [date.fromisoformat(day) for day in doc["session"]["days"]]
        attended_by_day = {day: sum(1 for t in registered if p.latest_marks(t).get(day.isoformat())
                                    in ATTENDED_STATUSES) for day in days}
        responses = []
        ids = [p.response_id(session_id, ref) for ref in doc.get("respondents", [])]
        answered = await self.store.get_many("responses", ids)
        for response in (answered[i].document for i in ids if i in answered):
            submission = json.loads(response["submission"])
            trainee = None if submission["anonymous"] else by_participant.get(submission.get("participant_id"))
            profile = (trainee or {}).get("profile") or {}
            if sex is not None and (submission["anonymous"] or profile.get("sex") != sex):
                continue
            responses.append(Response(
                answers={a["item_id"]: a["value"] for a in submission["answers"]},
                anonymous=submission["anonymous"],
                submitted_at=datetime.fromisoformat(submission["submitted_at"].replace("Z", "+00:00")),
                full_name=profile.get("full_name"),
                profile=Profile(profile.get("country"), profile.get("organization"), profile.get("sex"))
                if profile else None,
                submission_id=submission["submission_id"], quote_consent=submission.get("quote_consent")))
        # The scores as knowledge_score.recorded projected them onto each trainee.
        scores = [KnowledgeScores(t["participant_id"], p.knowledge_score(t, "pre"), p.knowledge_score(t, "post"),
                                  ((t.get("profile") or {}).get("full_name")))
                  for t in sorted(trainees, key=lambda t: t["participant_id"]) if t.get("knowledge")]
        picked = await self.command.quotes.load(session_id)
        return SessionFacts(
            session_id=session_id, start_date=date.fromisoformat(doc["session"]["start_date"]),
            questionnaire=await self.questionnaire_of(session_id), responses=responses,
            registered=len(registered), session_days=days, attended_by_day=attended_by_day, scores=scores,
            pass_mark=self.pass_mark, quote_picks=[tuple(pick) for pick in picked.state["picks"]] if picked else (),
            organizations=[(t.get("profile") or {}).get("organization") or "" for t in registered])

    async def stories(self, session_ids: list[str], language: str) -> list[SessionStory]:
        """What the write-up tells of each session: its facts, its report's headlines and chosen
        quotes, and how many of its trainees the pool certified (the pool is read once, whole)."""
        certified = Counter(doc.document.get("session_id") for doc in await self.store.all("trainers")
                            if doc.document.get("certified_at"))
        found = []
        for session_id in session_ids:
            snapshot = (await self.session_doc(session_id))["session"]
            facts = await self.session_facts(session_id)
            report = build_session_report(facts, language)
            found.append(SessionStory(
                session_id=session_id, title=snapshot["title"], kind=snapshot["kind"], city=snapshot["city"],
                organizing_office=snapshot["organizing_office"], start_date=date.fromisoformat(snapshot["start_date"]),
                end_date=date.fromisoformat(snapshot["end_date"]), registered=facts.registered,
                attended_by_day=facts.attended_by_day, organizations=facts.organizations,
                headlines=report.headlines, quotes=report.quotes, trainers_certified=certified[session_id]))
        return found

    async def matching_sessions(self, country: str | None = None, office: str | None = None,
                                period_from: date | None = None, period_to: date | None = None,
                                visible: Callable[[str, list[str]], bool] = lambda office, facilitators: True
                                ) -> list[str]:
        """Ids of the sessions matching the filters that the caller may see (`visible(office,
        facilitator_ids)`); an aggregate report reads every session."""
        found = []
        for doc in (s.document for s in await self.store.all("sessions", fields=["session"])):
            session = doc.get("session")
            if session is None:
                continue
            start = date.fromisoformat(session["start_date"])
            if (visible(session["organizing_office"], session.get("facilitator_ids") or [])
                    and (country is None or session["country"] == country)
                    and (office is None or session["organizing_office"] == office)
                    and (period_from is None or start >= period_from)
                    and (period_to is None or start <= period_to)):
                found.append(doc["_id"])
        return sorted(found)
