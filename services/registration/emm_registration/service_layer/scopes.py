"""Registration's answers to authorization's questions (emm_common.authorization.ScopeSource),
from its own sessions and staff directory."""

from __future__ import annotations

from emm_common.authorization import SessionScope, Target
from emm_registration.domain.errors import NotFound
from emm_registration.service_layer.commands import Registration

REGIONAL_MEMBER = "only the regional EMM team may change a member of the regional EMM team"


class RegistrationScopes:
    def __init__(self, registration: Registration) -> None:
        self.registration = registration

    async def session(self, session_id: str) -> SessionScope | None:
        try:
            # One read: a change left half-written by a crash got no 2xx, so nobody relies on it yet.
            session = await self.registration.session(session_id, confirm=False)
        except NotFound:
            return None
        return SessionScope(session_id, session.organizing_office, frozenset(session.facilitator_ids),
                            {e.enrollment_id: (e.participant_id, e.status) for e in session.enrollments.values()})

    async def enrollment_status(self, session_id: str, enrollment_id: str, participant_id: str) -> str | None:
        scope = await self.session(session_id)
        found = scope.enrollments.get(enrollment_id) if scope else None
        return found[1] if found and found[0] == participant_id else None

    async def target(self, kind: str, value: str) -> Target | None:
        if kind != "staff_id":
            return None
        try:
            member = await self.registration.staff_member(value)
        except NotFound:
            return None
        return Target(offices=frozenset(member.offices), regional_only=REGIONAL_MEMBER if member.regional else None)
