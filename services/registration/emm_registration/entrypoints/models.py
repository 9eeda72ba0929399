"""Request and response bodies of the registration API. Types and bounds are checked here (the
bounds are the domain's, see domain/fields.py); the domain checks the rules and names the field
at fault. The OpenAPI document states those rules too where JSON Schema can say them (required
texts not blank, the country and email patterns, at least one module and language, a reason to
cancel a session), read from the domain's constants (`checked_by_the_domain`); what it cannot say
(an end date not before the start, an IANA time zone, a phone number valid in its country) its
descriptions say in words."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from emm_common.identifiers import ID_PATTERN
from emm_common.iso_dates import IsoDate
from emm_common.openapi import REQUIRED_TEXT, checked_by_the_domain, ecma_pattern
from emm_registration.domain import fields as f
from emm_registration.domain.participant import EMAIL_PATTERN
from emm_registration.domain.session import KINDS, MAX_SESSION_DAYS, Enrollment, Session
from emm_registration.domain.staff import MAX_OFFICES, StaffMember

Language = Literal["fr", "en", "pt"]
Id = Annotated[str, Field(max_length=f.ID_MAX_LENGTH)]
ChosenId = Annotated[str, Field(max_length=f.ID_MAX_LENGTH, **checked_by_the_domain(pattern=ID_PATTERN))]
Name = Annotated[str, Field(max_length=f.NAME_LENGTH)]
Title = Annotated[str, Field(max_length=f.TITLE_LENGTH)]
RequiredName = Annotated[str, Field(max_length=f.NAME_LENGTH, **checked_by_the_domain(pattern=REQUIRED_TEXT))]
RequiredTitle = Annotated[str, Field(max_length=f.TITLE_LENGTH, **checked_by_the_domain(pattern=REQUIRED_TEXT))]
Text = Annotated[str, Field(max_length=f.TEXT_LENGTH)]
# A country code, a time zone or a status: the domain checks them exactly; this only stops oversized input.
CODE_LENGTH = 64
Code = Annotated[str, Field(max_length=CODE_LENGTH)]
# The domain strips the value and upper-cases a country before it checks it.
COUNTRY_INPUT = r"^\s*[A-Za-z]{2}\s*$"
Country = Annotated[str, Field(max_length=CODE_LENGTH, description="ISO 3166-1 alpha-2, e.g. SN",
                               **checked_by_the_domain(pattern=COUNTRY_INPUT))]
Email = Annotated[str, Field(max_length=f.EMAIL_LENGTH, **checked_by_the_domain(
    pattern=rf"^\s*{ecma_pattern(EMAIL_PATTERN)}\s*$"))]
Modules = Annotated[list[RequiredName], Field(max_length=f.MAX_MODULES, **checked_by_the_domain(minItems=1))]
SessionLanguages = Annotated[list[Language], Field(max_length=len(f.LANGUAGES), **checked_by_the_domain(minItems=1))]
FacilitatorIds = Annotated[list[ChosenId], Field(max_length=f.MAX_FACILITATORS)]
IanaTimeZone = Annotated[str, Field(max_length=CODE_LENGTH, description="IANA time zone, e.g. Africa/Dakar",
                                    **checked_by_the_domain(pattern=REQUIRED_TEXT))]
SessionDates = f"end_date is not before start_date; a session lasts at most {MAX_SESSION_DAYS} days"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionDetails(Body):
    session_id: ChosenId | None = Field(None, description="Optional id chosen by the caller; scheduling it again "
                                                          "returns the existing session (idempotent)")
    title: RequiredTitle
    kind: Literal[KINDS]
    modules: Modules
    organizing_office: RequiredName
    city: RequiredName
    country: Country
    venue: Title | None = None
    start_date: IsoDate
    end_date: IsoDate = Field(description=SessionDates)
    timezone: IanaTimeZone
    languages: SessionLanguages
    capacity: int = Field(ge=1)
    enrollment_opens_at: datetime | None = Field(None, description="With a time zone (Z or an offset)")
    enrollment_closes_at: datetime | None = Field(None, description="After enrollment_opens_at")
    facilitator_ids: FacilitatorIds = []
    target_audience: Text | None = None


class SessionChanges(Body):
    title: RequiredTitle | None = None
    modules: Modules | None = None
    organizing_office: RequiredName | None = None
    city: RequiredName | None = None
    country: Country | None = None
    venue: Title | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = Field(None, description=SessionDates)
    timezone: IanaTimeZone | None = None
    languages: SessionLanguages | None = None
    capacity: int | None = Field(None, ge=1)
    enrollment_opens_at: datetime | None = None
    enrollment_closes_at: datetime | None = None
    facilitator_ids: FacilitatorIds | None = None
    target_audience: Text | None = None


CANCELLING = {"if": {"properties": {"status": {"const": "cancelled"}}, "required": ["status"]},
              "then": {"required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}}


class StatusChange(Body):
    """A reason is required to cancel (the document says so with if/then; the route refuses without one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=CANCELLING)

    status: Literal["open", "in_progress", "completed", "cancelled"]
    reason: Text | None = Field(None, min_length=1, description="Required to cancel")


class Person(Body):
    email: Email
    full_name: RequiredName
    country: Country
    preferred_language: Language
    consent_to_contact: StrictBool
    phone: str | None = Field(None, max_length=f.PHONE_INPUT_LENGTH,
                              description="Any way a person writes it; a valid number in `country` unless it starts "
                                          "with + or 00; stored in E.164")
    organization: Name | None = None
    job_title: Name | None = None
    sex: Literal["female", "male", "other", "undisclosed"] = "undisclosed"
    working_languages: list[Language] | None = Field(
        None, max_length=3, description="Languages they can work and train in; the preferred one is added")


class BulkEnrollment(Body):
    participants: list[Person] = Field(min_length=1, max_length=f.MAX_MARKS)


class EnrollmentCancellation(Body):
    reason: Text | None = None


class Invitation(Body):
    valid_days: int = Field(30, ge=1, le=365)


class Mark(Body):
    participant_id: Id
    status: Literal["present", "late", "absent", "excused"]
    note: Text | None = None


class DayMarks(Body):
    marks: list[Mark] = Field(min_length=1, max_length=f.MAX_MARKS)


class SessionView(BaseModel):
    session: dict[str, Any]
    seats_taken: int
    seats_left: int
    waitlist_length: int
    completed_at: datetime | None = None
    evaluation_closes_at: datetime | None = Field(None, description="Set at completion: when the evaluation closes")
    evaluation_closed_at: datetime | None = None

    @classmethod
    def of(cls, session: Session) -> "SessionView":
        return cls(session=session.snapshot(), seats_taken=session.seats_taken, seats_left=session.seats_left,
                   waitlist_length=len(session.waitlist()), completed_at=session.completed_at,
                   evaluation_closes_at=session.evaluation_closes_at, evaluation_closed_at=session.evaluation_closed_at)


class EnrollmentView(BaseModel):
    enrollment_id: str
    session_id: str
    participant_id: str
    full_name: str
    status: Literal["registered", "waitlisted", "cancelled"]
    waitlist_position: int | None = None
    enrolled_by: str
    registered_at: datetime | None = None
    waitlisted_at: datetime | None = None
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None

    @classmethod
    def of(cls, session: Session, enrollment: Enrollment) -> "EnrollmentView":
        return cls(enrollment_id=enrollment.enrollment_id, session_id=session.session_id,
                   participant_id=enrollment.participant_id, full_name=enrollment.participant["full_name"],
                   status=enrollment.status, waitlist_position=session.waitlist_position(enrollment.enrollment_id),
                   enrolled_by=enrollment.enrolled_by, registered_at=enrollment.registered_at,
                   waitlisted_at=enrollment.waitlisted_at, promoted_at=enrollment.promoted_at,
                   cancelled_at=enrollment.cancelled_at)


class EnrollmentCreated(BaseModel):
    """No credential for the person: they get their own sign-in link by email (confirmation)."""

    enrollment: EnrollmentView
    created: bool = Field(description="False when the person already held this enrollment")


class InvitationToken(BaseModel):
    session_id: str
    token: str
    expires_at: datetime


class Roster(BaseModel):
    session_id: str
    registered: list[EnrollmentView]
    waitlist: list[EnrollmentView]


class AttendanceView(BaseModel):
    session_id: str
    days: list[date]
    sheet: dict[str, dict[str, dict[str, Any]]] = Field(description="day -> participant id -> latest mark")
    day_summary: dict[str, dict[str, int]]
    participant_rates: dict[str, float | None]
    session_rate: float | None


class HistoryEntry(BaseModel):
    session: dict[str, Any]
    enrollment: EnrollmentView


# -- sign-in and the staff directory ----------------------------------------------------------

LINK_LENGTH = 4096  # a link token is about 400 characters; far more is not one
StaffRole = Literal["organizer", "facilitator"]
Offices = Annotated[list[RequiredName], Field(max_length=MAX_OFFICES)]
# An organizer acts for at least one office, unless regional (the domain's rule, in JSON Schema).
ORGANIZER_OFFICES = {"if": {"required": ["role"], "properties": {"role": {"const": "organizer"},
                                                                "regional": {"const": False}}},
                     "then": {"required": ["offices"], "properties": {"offices": {"minItems": 1}}}}


class SignInLink(Body):
    link: str = Field(max_length=LINK_LENGTH, description="The link token of a sign-in URL (its `link` parameter)")


class SignedInView(BaseModel):
    token: str = Field(description="API bearer token: 7 days for a participant, 12 hours for staff")
    role: Literal["participant", "organizer", "facilitator"]
    subject: str = Field(description="participant_id or staff_id")
    session_id: str | None
    enrollment_id: str | None
    name: str
    preferred_language: Language
    expires_at: datetime


class LinkRequest(Body):
    email: Email


class LinkRequestAccepted(BaseModel):
    detail: str


class StaffDetails(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ORGANIZER_OFFICES)

    full_name: RequiredName
    email: Email = Field(description="The person's identity: it cannot be changed later")
    preferred_language: Language
    role: StaffRole
    offices: Offices = Field([], description="The offices they act for; an organizer needs one, unless regional")
    regional: StrictBool = Field(False, description="Regional EMM team: acts for every office")
    active: StrictBool = True


class StaffChanges(Body):
    """Only the fields given change; none can be set to null."""

    full_name: RequiredName = None
    preferred_language: Language = None
    role: StaffRole = None
    offices: Offices = None
    regional: StrictBool = None
    active: StrictBool = None


class StaffView(BaseModel):
    staff_id: str
    full_name: str
    email: str
    preferred_language: Language
    role: StaffRole
    offices: list[str]
    regional: bool
    active: bool
    updated_at: datetime

    @classmethod
    def of(cls, member: StaffMember) -> "StaffView":
        return cls(**{name: getattr(member, name) for name in cls.model_fields})
