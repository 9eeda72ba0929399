"""HTTP API of the registration service (run: uvicorn emm_registration.entrypoints.api:create_app --factory)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from emm_common.authorization import (ALL, ANY, FILTERED, INVITATION, OWN_OFFICE, OWN_OR_INVITED,
                                     OWN_RECORD, OWN_SESSION, YES, Allow, Caller)
from emm_common.calendar import session_calendar
from emm_common.csv_export import CSV_RESPONSES, csv_download
from emm_common.http import Runtime, create_service_app
from emm_common.identifiers import ID_MAX_LENGTH
from emm_common.iso_dates import IsoDate
from emm_common.paging import Paging
from emm_common.rate_limits import Limit, RateLimit
from emm_registration import bootstrap
from emm_registration.config import Settings
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.session import Enrollment
from emm_registration.entrypoints import models as m
from emm_registration.service_layer.commands import EnrollmentResult, Registration
from emm_registration.service_layer.scopes import RegistrationScopes
from emm_registration.service_layer.sign_in import LinkSignIn, SignIn

# Who may call each route (docs/authorization.md is generated from these; see emm_common.authorization).
OfficeOfSession = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL))]
NewSessionOfOffice = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, target="body",
                                                     body_offices=("organizing_office",)))]
SessionChangeOfOffice = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL,
                                                        body_offices=("organizing_office",)))]
SessionList = Annotated[Caller, Depends(Allow(facilitator=FILTERED, organizer=FILTERED, regional=ALL, service=YES))]
SessionReader = Annotated[Caller, Depends(Allow(participant=OWN_OR_INVITED, facilitator=OWN_SESSION,
                                                organizer=OWN_OFFICE, regional=ALL, service=YES))]
Enroller = Annotated[Caller, Depends(Allow(participant=INVITATION, organizer=OWN_OFFICE, regional=ALL))]
# A cancelled enrollment's token may cancel it again (a form sent twice): that changes nothing.
Canceller = Annotated[Caller, Depends(Allow(participant=OWN_RECORD, organizer=OWN_OFFICE, regional=ALL))]
StaffOfSession = Annotated[Caller, Depends(Allow(facilitator=OWN_SESSION, organizer=OWN_OFFICE, regional=ALL))]
HistoryReader = Annotated[Caller, Depends(Allow(participant=OWN_RECORD, organizer=FILTERED, regional=ALL))]
DirectoryReader = Annotated[Caller, Depends(Allow(organizer=ANY, regional=ALL))]
NewStaffOfOffice = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, target="body",
                                                   body_offices=("offices", "regional")))]
StaffOfOffice = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, target="staff_id",
                                                body_offices=("offices", "regional")))]
Public = Annotated[None, Depends(Allow(public=True))]

# Rate limits at the edges, per address and per IP (emm_common.rate_limits); a 429 with Retry-After.
HOUR = 3600
LinkRequestLimit = Annotated[None, Depends(RateLimit(Limit("sign-in-links", "body:email", 10, HOUR),
                                                     Limit("sign-in-links-by-ip", "ip", 30, HOUR)))]


def by_invitation(request: Request) -> bool:
    caller = getattr(request.state, "caller", None)
    return caller is not None and caller.role == "participant"


InvitationLimit = Annotated[None, Depends(RateLimit(Limit("invitation-enrollments", "body:email", 5, HOUR),
                                                    Limit("invitation-enrollments-by-ip", "ip", 30, HOUR),
                                                    only_if=by_invitation))]

# Each route's error statuses are documented from its shape (emm_common.openapi).
router = APIRouter()


def registration(request: Request) -> Registration:
    return request.app.state.registration


Service = Annotated[Registration, Depends(registration)]


def sign_in_service(request: Request) -> SignIn:
    return request.app.state.sign_in


SignInService = Annotated[SignIn, Depends(sign_in_service)]
LINKS_ON_THEIR_WAY = "If this address is known, a sign-in link is on its way."


# -- sessions -------------------------------------------------------------------------------

@router.post("/sessions", status_code=201, response_model=m.SessionView, tags=["sessions"],
             summary="Schedule a session",
             responses={200: {"model": m.SessionView, "description": "The session of this session_id, scheduled already"}})
async def schedule_session(body: m.SessionDetails, who: NewSessionOfOffice, service: Service, response: Response):
    details = body.model_dump(exclude={"session_id"}, exclude_none=True)
    session, created = await service.schedule_session(details, who.subject, body.session_id)
    if not created:
        response.status_code = 200
    return m.SessionView.of(session)


@router.get("/sessions", response_model=list[m.SessionView], tags=["sessions"],
            summary="List sessions by start date, a page at a time")
async def list_sessions(who: SessionList, service: Service, page: Paging,
                        status_: Annotated[str | None, Query(alias="status", max_length=m.CODE_LENGTH)] = None,
                        country: Annotated[str | None, Query(max_length=m.CODE_LENGTH)] = None,
                        facilitator: Annotated[str | None, Query(
                            max_length=ID_MAX_LENGTH, description="Only sessions this staff id facilitates")] = None):
    visible = [s for s in await service.sessions(status_, country, facilitator)
               if who.sees(s.organizing_office, s.facilitator_ids)]
    return [m.SessionView.of(s) for s in page.of(page.window(visible))]


@router.get("/sessions/{session_id}", response_model=m.SessionView, tags=["sessions"],
            summary="A session with seats taken and left and the waitlist length")
async def get_session(session_id: str, who: SessionReader, service: Service):
    return m.SessionView.of(await service.session(session_id))


@router.get("/sessions/{session_id}/calendar.ics", tags=["sessions"],
            summary="The session as an iCalendar file to download (the same event as the emailed invitations)",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
async def session_calendar_file(session_id: str, who: SessionReader, service: Service,
                                language: Annotated[m.Language, Query(description="Of the place's country name")] = "en"):
    session = await service.session(session_id)
    ics = session_calendar(session.snapshot(), "PUBLISH", language=language)
    return Response(ics, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{session_id}.ics"'})


@router.patch("/sessions/{session_id}", response_model=m.SessionView, tags=["sessions"],
              summary="Change a session's details (dates, place, capacity, ...)")
async def update_session(session_id: str, body: m.SessionChanges, who: SessionChangeOfOffice, service: Service):
    changes = body.model_dump(exclude_unset=True)
    return m.SessionView.of(await service.update_session(session_id, changes))


@router.post("/sessions/{session_id}/status", response_model=m.SessionView, tags=["sessions"],
             summary="Move a session through its lifecycle: open, in_progress, completed, or cancelled "
                     "(with a reason)")
async def change_status(session_id: str, body: m.StatusChange, who: OfficeOfSession, service: Service):
    if body.status == "cancelled" and not body.reason:
        raise InvalidInput("reason", "is required to cancel a session")
    action = {"open": "open", "in_progress": "start", "completed": "complete", "cancelled": "cancel"}[body.status]
    return m.SessionView.of(await service.change_status(session_id, action, body.reason))


@router.post("/sessions/{session_id}/evaluation/closure", response_model=m.SessionView, tags=["sessions"],
             summary="Close a completed session's evaluation now (the lifecycle clock closes it when its window "
                     "ends); its report goes to the session's staff",
             description="Closing a closed evaluation changes nothing. 409 before the session is completed.")
async def close_evaluation(session_id: str, who: OfficeOfSession, service: Service):
    return m.SessionView.of(await service.change_status(session_id, "close_evaluation"))


# -- enrollment -----------------------------------------------------------------------------

@router.post("/sessions/{session_id}/invitations", status_code=201, response_model=m.InvitationToken,
             tags=["enrollment"], summary="An invitation token with which a person enrolls themselves")
async def invite(session_id: str, body: m.Invitation, who: OfficeOfSession, service: Service, request: Request):
    await service.session(session_id)
    expires = datetime.now(timezone.utc) + timedelta(days=body.valid_days)
    token = request.app.state.token_issuer.issue("invitee", "participant", session_id=session_id,
                                                 ttl_seconds=body.valid_days * 86400)
    return m.InvitationToken(session_id=session_id, token=token, expires_at=expires)


async def enroll_one(service: Registration, session_id: str, person: m.Person, enrolled_by: str) -> m.EnrollmentCreated:
    return enrollment_created(await service.enroll(session_id, person.model_dump(exclude_none=True), enrolled_by))


def enrollment_created(result: EnrollmentResult) -> m.EnrollmentCreated:
    # No token for the person here: whoever enrolled them must not hold it; their emails carry their link.
    return m.EnrollmentCreated(enrollment=m.EnrollmentView.of(result.session, result.enrollment),
                               created=result.created)


@router.post("/sessions/{session_id}/enrollments", status_code=201, response_model=m.EnrollmentCreated,
             tags=["enrollment"],
             summary="Enroll a person: registered, or waitlisted when the session is full",
             description="By an organizer, or by the person with an invitation token for this session. "
                         "Enrolling the same person again returns their enrollment with 200. With an invitation: "
                         "429 (with Retry-After) beyond 5 per address or 30 per IP in an hour.",
             responses={200: {"model": m.EnrollmentCreated, "description": "The person's enrollment, made already"},
                        429: {"description": "Too many enrollments by invitation from this address or IP"}})
async def enroll(session_id: str, body: m.Person, who: Enroller, _: InvitationLimit, service: Service,
                 response: Response):
    created = await enroll_one(service, session_id, body, who.role)
    if not created.created:
        response.status_code = 200
    return created


@router.post("/sessions/{session_id}/enrollments/bulk", response_model=list[m.EnrollmentCreated],
             tags=["enrollment"], summary="Enroll invited staff in bulk, in the order given")
async def enroll_bulk(session_id: str, body: m.BulkEnrollment, who: OfficeOfSession, service: Service):
    people = [person.model_dump(exclude_none=True) for person in body.participants]
    return [enrollment_created(result) for result in await service.enroll_all(session_id, people, "organizer")]


@router.post("/sessions/{session_id}/enrollments/{enrollment_id}/cancellation", response_model=m.EnrollmentView,
             tags=["enrollment"], summary="Cancel a seat or waitlist place; the first waitlisted person is promoted")
async def cancel_enrollment(session_id: str, enrollment_id: str, body: m.EnrollmentCancellation,
                            who: Canceller, service: Service):
    session = await service.cancel_enrollment(session_id, enrollment_id, body.reason)
    return m.EnrollmentView.of(session, session.enrollments[enrollment_id])


@router.get("/sessions/{session_id}/roster", response_model=m.Roster, tags=["enrollment"],
            summary="Registered participants in seat order, and the waitlist in promotion order")
async def roster(session_id: str, who: StaffOfSession, service: Service):
    session = await service.session(session_id)
    return m.Roster(session_id=session_id, registered=[m.EnrollmentView.of(session, e) for e in session.roster()],
                    waitlist=[m.EnrollmentView.of(session, e) for e in session.waitlist()])


@router.get("/participants/{participant_id}/history", response_model=list[m.HistoryEntry], tags=["enrollment"],
            summary="A participant's own training history, oldest first, a page at a time")
async def history(participant_id: str, who: HistoryReader, service: Service, page: Paging):
    visible = [(s, e) for s, e in await service.history(participant_id) if who.sees(s.organizing_office)]
    return [m.HistoryEntry(session=s.snapshot(), enrollment=m.EnrollmentView.of(s, e))
            for s, e in page.of(page.window(visible))]


# -- attendance -----------------------------------------------------------------------------

@router.put("/sessions/{session_id}/attendance/{day}", response_model=m.AttendanceView, tags=["attendance"],
            summary="Mark attendance for one day (bulk); a later mark for the same person and day wins")
async def record_attendance(session_id: str, day: IsoDate, body: m.DayMarks, who: StaffOfSession, service: Service):
    await service.record_attendance(session_id, day, [mark.model_dump() for mark in body.marks], who.subject)
    return await attendance_view(service, session_id)


@router.get("/sessions/{session_id}/attendance", response_model=m.AttendanceView, tags=["attendance"],
            summary="Attendance sheet per day, rate per participant and for the session")
async def get_attendance(session_id: str, who: StaffOfSession, service: Service):
    return await attendance_view(service, session_id)


async def attendance_view(service: Registration, session_id: str) -> m.AttendanceView:
    session, sheet = await service.attendance(session_id)
    registered = [e.participant_id for e in session.roster()]
    return m.AttendanceView(
        session_id=session_id, days=session.days,
        sheet={day.isoformat(): {pid: mark.payload() for pid, mark in marks.items()}
               for day, marks in sorted(sheet.marks.items())},
        day_summary={day.isoformat(): counts for day, counts in sheet.summary().items()},
        participant_rates={pid: sheet.attendance_rate(pid) for pid in registered},
        session_rate=sheet.session_attendance_rate(registered))


# -- signing in -----------------------------------------------------------------------------

@router.post("/sign-in", response_model=m.SignedInView, tags=["sign-in"],
             summary="Exchange the link of an emailed sign-in URL for an API token",
             description="No bearer token: the link is the credential. A staff link works once and for 15 minutes; "
                         "a participant link for its lifetime, for the person's enrollment in the link's session "
                         "(a cancelled one too, to see their history). 401 for a link that is forged, expired, "
                         "used already, or whose person is unknown or no longer active.",
             responses={401: {"description": "The link is not valid, has expired or has been used"}})
async def sign_in(body: m.SignInLink, signing_in: SignInService, _: Public):
    return m.SignedInView(**vars(await signing_in.sign_in(body.link)))


@router.post("/sign-in/links", status_code=202, response_model=m.LinkRequestAccepted, tags=["sign-in"],
             summary="Email the sign-in links of an address (the same answer whether it is known or not)",
             description="No bearer token. A staff member gets a staff sign-in link; a participant one link per "
                         "session they enrolled in (the latest five). At most 3 requests per address and hour are "
                         "acted on; the answer is the same 202 either way. 422 only for what is not an email address; "
                         "429 (with Retry-After) beyond 10 requests per address or 30 per IP in an hour.",
             responses={429: {"description": "Too many requests from this address or IP; see Retry-After"}})
async def request_sign_in_links(body: m.LinkRequest, service: Service, _: Public, __: LinkRequestLimit):
    await service.request_sign_in_links(body.email)
    return m.LinkRequestAccepted(detail=LINKS_ON_THEIR_WAY)


# -- the staff directory --------------------------------------------------------------------

@router.post("/staff", status_code=201, response_model=m.StaffView, tags=["staff"],
             summary="Add an organizer or facilitator to the staff directory",
             description="The same email again returns the existing record, unchanged, with 200.",
             responses={200: {"model": m.StaffView, "description": "The staff member of this email, added already"}})
async def add_staff(body: m.StaffDetails, who: NewStaffOfOffice, service: Service, response: Response):
    member, created = await service.add_staff(body.model_dump())
    if not created:
        response.status_code = 200
    return m.StaffView.of(member)


@router.get("/staff", response_model=list[m.StaffView], tags=["staff"],
            summary="The staff directory by name, a page at a time")
async def list_staff(who: DirectoryReader, service: Service, page: Paging,
                     role: Annotated[m.StaffRole | None, Query()] = None):
    return [m.StaffView.of(member) for member in page.of(page.window(await service.staff_members(role)))]


@router.get("/staff/{staff_id}", response_model=m.StaffView, tags=["staff"], summary="One staff member")
async def get_staff(staff_id: str, who: DirectoryReader, service: Service):
    return m.StaffView.of(await service.staff_member(staff_id))


@router.patch("/staff/{staff_id}", response_model=m.StaffView, tags=["staff"],
              summary="Change a staff member's name, language, role, offices, or deactivate them")
async def update_staff(staff_id: str, body: m.StaffChanges, who: StaffOfOffice, service: Service):
    return m.StaffView.of(await service.update_staff(staff_id, body.model_dump(exclude_unset=True)))


# -- the app --------------------------------------------------------------------------------

def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    async def on_start(runtime: Runtime) -> None:
        store = bootstrap.document_store(runtime.database, on_commit=runtime.nudge)
        app.state.registration = bootstrap.registration(settings, store)
        app.state.scopes = RegistrationScopes(app.state.registration)
        app.state.sign_in = LinkSignIn(app.state.registration, app.state.token_verifier, app.state.token_issuer,
                                       bootstrap.used_links(store))

    app = create_service_app(
        settings, title="EMM2.0 registration",
        description="Sessions, participants, enrollment with capacity and waitlist, daily attendance, the staff "
                    "directory and signing in. Every change is published as an event (see schemas/asyncapi.yaml).",
        outbox_collections=bootstrap.outbox_collections, on_start=on_start)
    app.include_router(router)
    return app


# -- CSV exports (issue 14; emm_common.csv_export writes every one) ---------------------------

ROSTER_COLUMNS = ("status", "place", "participant_id", "full_name", "organization", "job_title", "country",
                  "preferred_language", "enrolled_by", "registered_at", "promoted_at", "waitlisted_at",
                  "enrollment_id")
ATTENDANCE_COLUMNS = ("participant_id", "full_name", "day", "status", "recorded_at", "recorded_by", "note")


def roster_row(enrollment: Enrollment, place: int | None) -> list[object]:
    person = enrollment.participant
    return [enrollment.status, place, enrollment.participant_id, person.get("full_name"), person.get("organization"),
            person.get("job_title"), person.get("country"), person.get("preferred_language"), enrollment.enrolled_by,
            enrollment.registered_at, enrollment.promoted_at, enrollment.waitlisted_at, enrollment.enrollment_id]


@router.get("/sessions/{session_id}/roster.csv", tags=["enrollment"], response_class=Response,
            responses=CSV_RESPONSES,
            summary="The roster as CSV: seats in seat order (place = seat number), then the waitlist in promotion "
                    "order (place = waitlist position)")
async def roster_csv(session_id: str, who: StaffOfSession, service: Service):
    session = await service.session(session_id)
    rows = [roster_row(e, seat) for seat, e in enumerate(session.roster(), start=1)]
    rows += [roster_row(e, session.waitlist_position(e.enrollment_id)) for e in session.waitlist()]
    return csv_download(f"roster-{session_id}.csv", ROSTER_COLUMNS, rows)


@router.get("/sessions/{session_id}/attendance.csv", tags=["attendance"], response_class=Response,
            responses=CSV_RESPONSES,
            summary="The attendance sheet as CSV: one row per person per day of the session, day by day in seat "
                    "order (status empty where nobody marked them), then anyone marked who no longer holds a seat")
async def attendance_csv(session_id: str, who: StaffOfSession, service: Service):
    session, sheet = await service.attendance(session_id)
    names = {e.participant_id: e.participant.get("full_name") for e in session.enrollments.values()}
    seated = [e.participant_id for e in session.roster()]
    people = seated + [pid for pid in sheet.participants() if pid not in seated]
    rows = []
    for day in session.days:
        for participant_id in people:
            mark = sheet.mark_of(participant_id, day)
            if mark is None and participant_id not in seated:
                continue
            rows.append([participant_id, names.get(participant_id), day] + (
                [mark.status, mark.recorded_at, mark.recorded_by, mark.note] if mark else [None] * 4))
    return csv_download(f"attendance-{session_id}.csv", ATTENDANCE_COLUMNS, rows)
