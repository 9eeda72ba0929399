"""Evaluation's answers to authorization's questions (emm_common.authorization.ScopeSource), from
its own projections of registration's session and enrollment events (never registration's data)."""

from __future__ import annotations

from emm_common.authorization import SessionScope, Target
from emm_common.store import DocumentStore
from emm_evaluation.service_layer import projections as p


class EvaluationScopes:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store  # the worker's projections, read only

    async def session(self, session_id: str) -> SessionScope | None:
        found = await self.store.get("sessions", session_id)
        session = found.document.get("session") if found else None
        if session is None:
            return None
        return SessionScope(session_id, session.get("organizing_office"),
                            frozenset(session.get("facilitator_ids") or ()))

    async def enrollment_status(self, session_id: str, enrollment_id: str, participant_id: str) -> str | None:
        found = await self.store.get("trainees", p.trainee_id(session_id, participant_id))
        if found is None or found.document.get("enrollment_id") not in (None, enrollment_id):
            return None
        return found.document.get("status")

    async def target(self, kind: str, value: str) -> Target | None:
        if kind != "trainer_id":
            return None
        found = await self.store.get("trainers", value)
        session = await self.session(found.document["session_id"]) if found else None
        if session is None:
            return None
        return Target(session=session, offices=frozenset({session.office} if session.office else ()))
