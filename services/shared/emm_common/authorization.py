"""Who may call which route, in which scope: the rules, declared once per route as a dependency.

Every route of every API declares `who: Annotated[Caller, Depends(Allow(...))]`. The `Allow`
names, for each kind of caller, the scope in which the route is theirs:

- a participant: `OWN_ENROLLMENT` (the token's enrollment in the route's session, still active),
  `OWN_RECORD` (their own history, session, certificate or enrollment, a cancelled enrollment's
  token too: cancelling again changes nothing),
  `INVITATION` (an invitation token to the route's session), `OWN_OR_INVITED` (either), or
  `ANY` (any participant's token of an active enrollment);
- a facilitator: `OWN_SESSION` (a session they facilitate), `ANY`, or `FILTERED` (a list shows
  only the sessions they facilitate);
- an organizer: `OWN_OFFICE` (the session's organizing office, or the staff member's offices,
  is one of the token's `offices`), `ANY`, or `FILTERED` (a list shows only their offices');
- the regional EMM team (an organizer whose token says `regional`): every office;
- the service role: service-to-service calls only, never a person's route.

What a session's office and facilitators are, and whether an enrollment is still active, each
service answers from its own data (`ScopeSource`, on `app.state.scopes`): registration from its
sessions, evaluation and notification from their projections of the session and enrollment
events. No service asks another. The table in docs/authorization.md is generated from these
declarations (`python -m emm_common.authorization`), and the matrix test drives every route of
every API with every role and scope from that table.

Refusals: 401 without a valid token (or with a participant token whose enrollment was
cancelled, for anything but reading their own record), 403 with a `detail` naming the field at
fault and the reason otherwise. A route body never checks a role; a list route passes the
`Caller` to its query, which keeps only what the caller may see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Iterable, Protocol

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from emm_common.auth import Principal
from emm_common.errors import Forbidden, NotFound

# Scopes (the words of docs/authorization.md's table)
OWN_ENROLLMENT = "own enrollment"
OWN_RECORD = "own record"
INVITATION = "invitation to the session"
OWN_OR_INVITED = "own record or invitation"
OWN_SESSION = "own session"
OWN_OFFICE = "own office"
FILTERED = "filtered to own"
ANY = "any"
ALL = "all"
YES = "yes"
NO = "-"
PUBLIC = "public"

CANCELLED = "cancelled"


@dataclass(frozen=True)
class SessionScope:
    """What authorization needs of a session: its office, its facilitators and, per enrollment id,
    the enrollment's participant and status."""

    session_id: str
    office: str | None
    facilitator_ids: frozenset[str] = frozenset()
    enrollments: dict[str, tuple[str, str]] = field(default_factory=dict)  # enrollment id -> (participant, status)


@dataclass(frozen=True)
class Target:
    """What a call acts on: the session (if any), and the offices involved (a session's office, a
    staff member's offices); `regional_only` says why only the regional team may act on it."""

    session: SessionScope | None = None
    offices: frozenset[str] = frozenset()
    regional_only: str | None = None  # why only the regional team may act on it, if so


class ScopeSource(Protocol):
    """A service's own answers to authorization's questions."""

    async def session(self, session_id: str) -> SessionScope | None:
        """The session's scope, or None if this service does not know the session."""

    async def enrollment_status(self, session_id: str, enrollment_id: str, participant_id: str) -> str | None:
        """The status of an enrollment ('registered', 'waitlisted', 'cancelled'), None if unknown."""

    async def target(self, kind: str, value: str) -> Target | None:
        """The target a path parameter other than `session_id` names (`notification_id`,
        `trainer_id`, `staff_id`), None if unknown. Services without such routes return None."""


@dataclass(frozen=True)
class Caller:
    """The verified caller of a route and what the route's rule let them see."""

    principal: Principal
    offices: frozenset[str] | None = None  # offices a list may show; None: every office
    facilitating: str | None = None  # a list shows only the sessions this staff id facilitates

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def role(self) -> str:
        return self.principal.role

    def sees(self, office: str | None, facilitator_ids: Iterable[str] = ()) -> bool:
        """Whether a list item of a session of `office`, facilitated by `facilitator_ids`, is shown."""
        if self.facilitating is not None and self.facilitating not in set(facilitator_ids):
            return False
        return self.offices is None or office in self.offices


_bearer = HTTPBearer(auto_error=False)


def unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def verified_principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller of a bearer token, or 401: missing, forged, expired, revoked."""
    if credentials is None:
        raise unauthorized("missing bearer token")
    try:
        return request.app.state.token_verifier.verify(credentials.credentials)
    except jwt.PyJWTError as exc:
        raise unauthorized(f"invalid token: {exc}") from exc


async def signed_in_principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The verified caller whose token has not been signed out, or 401."""
    principal = verified_principal(request, credentials)
    revocations = getattr(request.app.state, "revocations", None)
    if revocations is not None and await revocations.revoked(principal.token_id):
        raise unauthorized("this token was signed out: sign in again")
    return principal


def role_name(principal: Principal) -> str:
    """The column of the table a principal falls in."""
    if principal.role == "organizer" and principal.regional:
        return "regional"
    return principal.role


@dataclass(frozen=True)
class Allow:
    """A route's rule (see the module's docstring). Used as a FastAPI dependency it answers the
    `Caller`, or refuses with 401/403. `target` is the path parameter naming what the route acts on
    (`session_id` by default when the path has one); `body_offices` the body fields whose offices
    an organizer must act for (`organizing_office`; `offices` and `regional` of a staff member)."""

    participant: str = NO
    facilitator: str = NO
    organizer: str = NO
    regional: str = NO
    service: str = NO
    public: bool = False
    target: str | None = None
    body_offices: tuple[str, ...] = ()

    def cell(self, column: str) -> str:
        """The table's cell of this rule for a column (participant, facilitator, organizer, regional, service)."""
        return PUBLIC if self.public else getattr(self, column)

    async def __call__(self, request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller | None:
        caller = await self._decide(request, credentials)
        request.state.caller = caller  # for the dependencies after it (a rate limit of invitations)
        return caller

    async def _decide(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller | None:
        if self.public:
            return None
        principal = await signed_in_principal(request, credentials)
        column = role_name(principal)
        scope = self.cell(column)
        if scope == NO:
            raise Forbidden("authorization", f"the {column} role may not do this; allowed: {self.allowed()}")
        scopes: ScopeSource = request.app.state.scopes
        if principal.role == "participant":
            await self._participant(request, principal, scope, scopes)
            return Caller(principal)
        if scope in (ANY, ALL, YES):
            return Caller(principal)
        if scope == FILTERED:
            if principal.role == "facilitator":
                return Caller(principal, facilitating=principal.subject)
            return Caller(principal, offices=frozenset(principal.offices))
        target = await self._target(request, scopes)
        if scope == OWN_SESSION:
            if target.session is None or principal.subject not in target.session.facilitator_ids:
                raise Forbidden(self._target_name(request), "only a facilitator of this session may do this")
            return Caller(principal)
        # OWN_OFFICE
        offices = set(target.offices) | ({target.session.office} if target.session and target.session.office else set())
        offices |= await self._body_offices(request)
        outside = sorted(offices - set(principal.offices))
        if outside:
            raise Forbidden(self._target_name(request) if target.session else "offices",
                            f"you act for {', '.join(principal.offices) or 'no office'}, not for {', '.join(outside)}")
        if target.regional_only:
            raise Forbidden(self._target_name(request), target.regional_only)
        if await self._body_grants_regional(request):
            raise Forbidden("regional", "only the regional EMM team may give regional rights")
        return Caller(principal, offices=frozenset(principal.offices))

    def allowed(self) -> str:
        columns = [c for c in COLUMNS if self.cell(c) != NO]
        return ", ".join(f"{c} ({self.cell(c)})" for c in columns) or "nobody"

    def _target_name(self, request: Request) -> str:
        return self.target or ("session_id" if "session_id" in request.path_params else "body")

    async def _target(self, request: Request, scopes: ScopeSource) -> Target:
        name = self._target_name(request)
        if name == "body":
            return Target()
        value = request.path_params.get(name)
        if name == "session_id":
            session = await scopes.session(value)
            if session is None:
                raise NotFound("session_id", f"no session {value}")
            return Target(session=session, offices=frozenset({session.office} if session.office else ()))
        found = await scopes.target(name, value)
        if found is None:
            raise NotFound(name, f"no {name.removesuffix('_id')} {value}")
        return found

    async def _body(self, request: Request) -> dict[str, Any]:
        if not self.body_offices:
            return {}
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}  # the route's own validation answers 422
        return body if isinstance(body, dict) else {}

    async def _body_offices(self, request: Request) -> set[str]:
        body = await self._body(request)
        offices: set[str] = set()
        for name in self.body_offices:
            value = body.get(name)
            if isinstance(value, str):
                offices.add(value)
            elif isinstance(value, list):
                offices |= {v for v in value if isinstance(v, str)}
        return offices

    async def _body_grants_regional(self, request: Request) -> bool:
        return "regional" in self.body_offices and (await self._body(request)).get("regional") is True

    async def _participant(self, request: Request, principal: Principal, scope: str, scopes: ScopeSource) -> None:
        session_id = request.path_params.get("session_id")
        invitation = bool(principal.session_id) and not principal.enrollment_id
        if scope == INVITATION or (scope == OWN_OR_INVITED and invitation):
            if not invitation or principal.session_id != session_id:
                raise Forbidden("session_id", "this token is not an invitation to this session")
            return
        if invitation:
            raise Forbidden("authorization", "an invitation token only enrolls in its session")
        if principal.session_id:
            state = await scopes.enrollment_status(principal.session_id, principal.enrollment_id, principal.subject)
            if state == CANCELLED and scope not in (OWN_RECORD, OWN_OR_INVITED):
                raise unauthorized("this enrollment was cancelled: its token no longer works")
        if scope in (OWN_RECORD, OWN_OR_INVITED):
            participant_id = request.path_params.get("participant_id")
            if participant_id is not None and participant_id != principal.subject:
                raise Forbidden("participant_id", "a participant may read only their own record")
            enrollment_id = request.path_params.get("enrollment_id")
            if enrollment_id is not None and enrollment_id != principal.enrollment_id:
                raise Forbidden("enrollment_id", "a participant may act only on their own enrollment")
            if session_id is not None and session_id != principal.session_id:
                session = await scopes.session(session_id)
                if session is None or principal.subject not in {p for p, _ in session.enrollments.values()}:
                    raise Forbidden("session_id", "a participant may read only the sessions they enrolled in")
            return
        if scope == OWN_ENROLLMENT:
            if session_id is not None and session_id != principal.session_id:
                raise Forbidden("session_id", "this token is for an enrollment in another session")
            enrollment_id = request.path_params.get("enrollment_id")
            if enrollment_id is not None and enrollment_id != principal.enrollment_id:
                raise Forbidden("enrollment_id", "a participant may act only on their own enrollment")


COLUMNS = ("participant", "facilitator", "organizer", "regional", "service")


def rule_of(route: Any) -> Allow | None:
    """The `Allow` a FastAPI route depends on, if any."""
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Allow):
            return dependant.call
        stack.extend(dependant.dependencies)
    return None


# Routes every app has from the shared package or FastAPI itself, open to anyone who can reach it.
OPERATIONAL = Allow(public=True)


def _flat_routes(routes: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    # FastAPI 0.165 keeps an included router as one entry (`original_router`, `include_context`).
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flat_routes(included.routes, prefix + getattr(route.include_context, "prefix", ""))
        else:
            yield prefix, route


def route_rules(app: Any) -> list[tuple[str, str, Allow | None]]:
    """(method, path, rule) of every route of an app; the shared operational and documentation
    routes are public."""
    from fastapi.routing import APIRoute

    rows = []
    for prefix, route in _flat_routes(app.routes):
        methods = sorted(getattr(route, "methods", None) or ()) or ["GET"]
        path = getattr(route, "path", None)
        path = None if path is None else prefix + path
        if path is None:
            continue
        rule = rule_of(route) if isinstance(route, APIRoute) else None
        if rule is None and (not isinstance(route, APIRoute) or not route.include_in_schema
                             or path in ("/healthz", "/readyz")):
            rule = OPERATIONAL
        for method in methods:
            if method != "HEAD":
                rows.append((method, path, rule))
    return sorted(set(rows), key=lambda row: (row[1], row[0]))


HEADER = ("| service | route | participant | facilitator | organizer | regional team | service role |\n"
          "|---|---|---|---|---|---|---|")


def table(apps: dict[str, Any]) -> str:
    """The authorization table of the given apps (service name -> FastAPI app), as Markdown."""
    lines = [HEADER]
    for service, app in apps.items():
        for method, path, rule in route_rules(app):
            cells = [rule.cell(c) if rule else "NOT DECLARED" for c in COLUMNS]
            lines.append(f"| {service} | `{method} {path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_table(markdown: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """The rows of the table in a Markdown document: (service, method, path) -> {column: cell}."""
    rows = {}
    for line in markdown.splitlines():
        if not line.startswith("| ") or "`" not in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(COLUMNS):
            continue
        method, path = cells[1].strip("`").split(" ", 1)
        rows[(cells[0], method, path)] = dict(zip(COLUMNS, cells[2:]))
    return rows


def service_apps() -> dict[str, Any]:
    """The three APIs' apps, built without starting them (for the table and its tests)."""
    from emm_evaluation.entrypoints.api import create_app as evaluation
    from emm_notification.entrypoints.api import create_app as notification
    from emm_registration.entrypoints.api import create_app as registration

    return {"registration": registration(), "evaluation": evaluation(), "notification": notification()}


BEGIN, END = "<!-- authorization table: begin -->", "<!-- authorization table: end -->"


def with_table(document: str, generated: str) -> str:
    """The document with the part between its BEGIN and END markers replaced by `generated`."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{generated}\n{END}{tail}"


def main() -> None:
    """Rewrite the table of docs/authorization.md from the routes' declarations."""
    from pathlib import Path

    # Run as __main__, this module is a second copy of itself: the routes' `Allow` is the imported one's.
    from emm_common import authorization

    doc = Path(__file__).parents[3] / "docs" / "authorization.md"
    doc.write_text(authorization.with_table(doc.read_text(), authorization.table(authorization.service_apps())))
    print(f"wrote {doc}")


if __name__ == "__main__":
    main()
