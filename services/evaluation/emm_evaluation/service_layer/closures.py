"""When a session's evaluation closes, its final figures and headline sentences are published
once (org.iom.emm.evaluation.closed.v1), for the staff digest and for regional systems.

Not a pure transition: the figures are the report's, read from every projection of the session
as the API reads them. The closure is one insert-once document keyed by session, carrying the
event in its outbox, under an id that follows from the session: a redelivered or replayed close,
or a second worker, inserts nothing and publishes nothing.
"""

from __future__ import annotations

import uuid

from emm_common.envelope import Event, new_event
from emm_common.store import DocumentStore
from emm_evaluation.domain.questionnaire import LANGUAGES
from emm_evaluation.domain.report import build_session_report
from emm_evaluation.service_layer.reports import ReportReader

SOURCE = "/emm/evaluation"
EVALUATION_CLOSED = "org.iom.emm.evaluation.closed.v1"
CLOSURES = "evaluation_closures"


def closure_event_id(session_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://emm.iom.int/evaluation-closed/{session_id}"))


class EvaluationClosures:
    def __init__(self, store: DocumentStore, reader: ReportReader) -> None:
        self.store = store
        self.reader = reader

    async def close(self, event: Event) -> bool:
        """Publish the session's final figures for a session.evaluation_closed event, unless
        they were published already. Returns whether this call published them."""
        session_id = event.data["session_id"]
        if await self.store.get(CLOSURES, session_id) is not None:
            return False
        facts = await self.reader.session_facts(session_id)
        reports = {language: build_session_report(facts, language) for language in LANGUAGES}
        report = reports["en"]
        payload = {"session_id": session_id, "closed_at": event.data["closed_at"], "registered": report.registered,
                   "responses": report.responses,
                   **({"response_rate": report.response_rate} if report.response_rate is not None else {}),
                   "headlines": {language: list(r.headlines) for language, r in reports.items()}}
        closed = new_event(EVALUATION_CLOSED, payload, source=SOURCE, event_id=closure_event_id(session_id))
        return await self.store.insert(CLOSURES, {"_id": session_id, "closed_at": event.data["closed_at"]}, [closed])
