"""HTTP API of the evaluation service (run: uvicorn emm_evaluation.entrypoints.api:create_app --factory).

The request bodies are typed and bounded here, so the OpenAPI document describes them and an
oversized body is a 422 naming its field. The checks of a value against the questionnaire or the
rubric (an answer's range or option, a score from 1 to 5, an item type) stay in the domain, whose
errors name the item at fault (e.g. `work_performance: must be from 1 to 5`), which a participant
can act on; the document states those ranges too (`minimum`, `maximum`, `enum`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, create_model

from emm_common.authorization import (ALL, ANY, FILTERED, OWN_ENROLLMENT, OWN_OFFICE, OWN_RECORD, OWN_SESSION, YES,
                                     Allow, Caller)
from emm_common.csv_export import CSV_RESPONSES, csv_download
from emm_common.http import create_service_app
from emm_common.iso_dates import IsoDate
from emm_common.openapi import REQUIRED_TEXT, checked_by_the_domain
from emm_common.paging import Paging
from emm_common.rate_limits import Limit, RateLimit
from emm_common.identifiers import ID_MAX_LENGTH
from emm_evaluation import bootstrap
from emm_evaluation.config import Settings
from emm_evaluation.domain.peer_feedback import COMMENT_MAX_LENGTH
from emm_evaluation.domain.questionnaire import (FREE_TEXT_MAX_LENGTH, ITEM_TYPES, LANGUAGES,
                                                 default_tot_questionnaire, questionnaire_to_dict)
from emm_evaluation.domain.quotes import MAX_QUOTES
from emm_evaluation.domain.report import build_aggregate_report, build_session_report
from emm_evaluation.domain.report_export import CSV_COLUMNS, report_rows, report_to_dict
from emm_evaluation.domain.write_up import write_up, write_up_to_dict
from emm_evaluation.service_layer.commands import Evaluation, Outcome
from emm_evaluation.service_layer.scopes import EvaluationScopes
from emm_evaluation.entrypoints import views as v

# Who may call each route (docs/authorization.md is generated from these; see emm_common.authorization).
QuestionnaireReader = Annotated[Caller, Depends(Allow(participant=ANY, facilitator=ANY, organizer=ANY, regional=ALL))]
QuestionnaireAuthor = Annotated[Caller, Depends(Allow(organizer=ANY, regional=ALL))]
OfficeOfSession = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL))]
OfSession = Annotated[Caller, Depends(Allow(participant=OWN_ENROLLMENT, facilitator=OWN_SESSION, organizer=OWN_OFFICE,
                                            regional=ALL))]
Respondent = Annotated[Caller, Depends(Allow(participant=OWN_ENROLLMENT))]
Rater = Annotated[Caller, Depends(Allow(participant=OWN_ENROLLMENT, facilitator=OWN_SESSION))]
Scorer = Annotated[Caller, Depends(Allow(facilitator=OWN_SESSION, organizer=OWN_OFFICE, regional=ALL))]
SessionReportReader = Annotated[Caller, Depends(Allow(facilitator=OWN_SESSION, organizer=OWN_OFFICE, regional=ALL,
                                                      service=YES))]
ReportsReader = Annotated[Caller, Depends(Allow(organizer=FILTERED, regional=ALL, service=YES))]
PoolReader = Annotated[Caller, Depends(Allow(organizer=ANY, regional=ALL, service=YES))]
# A participant reads only their own status; staff of the session's office, its facilitators, the region.
StatusReader = Annotated[Caller, Depends(Allow(participant=OWN_RECORD, facilitator=OWN_SESSION, organizer=OWN_OFFICE,
                                               regional=ALL))]
CertificateReader = Annotated[Caller, Depends(Allow(participant=OWN_RECORD, organizer=ANY, regional=ALL, service=YES))]
Revoker = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, target="trainer_id"))]
Public = Annotated[None, Depends(Allow(public=True))]
# The public certificate check, per IP and per reference (emm_common.rate_limits): a 429 with Retry-After.
CheckLimit = Annotated[None, Depends(RateLimit(Limit("certificate-checks-by-ip", "ip", 60, 3600),
                                               Limit("certificate-checks", "path:certificate_reference", 30, 3600)))]
Language = Annotated[Literal["fr", "en", "pt"], Query(description="Language of item texts and headlines")]

# How long and how many at most: far above any real ToT questionnaire or rating, low enough that
# every feedback event stays small (schemas/events/ states the same bounds for answers).
MAX_ITEMS = 200  # items of a questionnaire, hence answers of an evaluation
ITEM_ID_LENGTH = 100  # an item's or an option's id
MAX_OPTIONS = 50
TITLE_LENGTH = 300  # a questionnaire's title, an option's label
MODULE_LENGTH = 200  # a session's module, as registration bounds it
QUESTION_LENGTH = 2000  # an item's text
REASON_LENGTH = 1000
CODE_LENGTH = 64  # a country, a language, a sex filter: checked exactly where they are used

Id = Annotated[str, Field(max_length=ID_MAX_LENGTH)]
CodeFilter = Annotated[str | None, Query(max_length=CODE_LENGTH)]

# Each route's error statuses are documented from its shape (emm_common.openapi).
router = APIRouter()


def evaluation(request: Request) -> Evaluation:
    return request.app.state.evaluation


Service = Annotated[Evaluation, Depends(evaluation)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def texts(name: str, max_length: int) -> type[Body]:
    """A body of one text in each working language (participants answer in any of them)."""
    return create_model(name, __base__=Body, **{language: (str, Field(
        max_length=max_length, **checked_by_the_domain(pattern=REQUIRED_TEXT))) for language in LANGUAGES})


Texts = texts("Texts", QUESTION_LENGTH)
Title = texts("Title", TITLE_LENGTH)


class Option(Body):
    option_id: str = Field(max_length=ITEM_ID_LENGTH, **checked_by_the_domain(pattern=REQUIRED_TEXT))
    label: Title


# Options belong to single_choice items, which need some (the domain's rule, in JSON Schema).
CHOICES_HAVE_OPTIONS = {"if": {"required": ["type"], "properties": {"type": {"const": "single_choice"}}},
                        "then": {"required": ["options"], "properties": {"options": {"minItems": 1}}},
                        "else": {"properties": {"options": {"maxItems": 0}}}}


class Item(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=CHOICES_HAVE_OPTIONS)

    item_id: str = Field(max_length=ITEM_ID_LENGTH, **checked_by_the_domain(pattern=REQUIRED_TEXT))
    type: str = Field(max_length=CODE_LENGTH, **checked_by_the_domain(enum=list(ITEM_TYPES)))
    text: Texts
    required: StrictBool = True
    options: list[Option] = Field([], max_length=MAX_OPTIONS, description="single_choice items only")


Items = Annotated[list[Item], Field(max_length=MAX_ITEMS, **checked_by_the_domain(minItems=1))]


class QuestionnaireBody(Body):
    questionnaire_id: Id | None = None
    title: Title
    items: Items


class QuestionnaireChanges(Body):
    title: Title | None = None
    items: Items | None = None


class Attachment(Body):
    questionnaire_id: Id
    version: int | None = None


class Answer(Body):
    item_id: str = Field(max_length=ITEM_ID_LENGTH)
    value: StrictInt | Annotated[StrictStr, Field(max_length=FREE_TEXT_MAX_LENGTH)] | None = Field(
        None, description="A whole number for likert5 (1-5) and scale0_10 (0-10) items, an option_id for "
                          "single_choice, text for free_text; null or absent leaves an optional item unanswered")


class FeedbackBody(Body):
    submission_id: Id | None = Field(None, description="Your request id: sending it again stores nothing twice")
    language: Literal["fr", "en", "pt"] = "en"
    anonymous: StrictBool = False
    answers: list[Answer] = Field(max_length=MAX_ITEMS)
    quote_consent: Literal["named", "unnamed"] | None = Field(
        None, description="May your comments be quoted in the session's write-up: with your name (named), without "
                          "it (unnamed); left out, they are not quoted. An anonymous evaluation is never named.")


Criterion = Annotated[StrictInt, Field(**checked_by_the_domain(minimum=1, maximum=5))]


class Scores(Body):
    """The rubric of a practice delivery: 1 to 5 on each criterion."""

    content_mastery: Criterion
    clarity: Criterion
    participant_engagement: Criterion
    time_management: Criterion
    adult_learning_methods: Criterion


class PeerFeedbackBody(Body):
    peer_feedback_id: Id | None = None
    trainee_participant_id: Id
    module: str = Field(max_length=MODULE_LENGTH, description="One of the session's modules")
    scores: Scores
    comment: str | None = Field(None, max_length=COMMENT_MAX_LENGTH)


class ScoreBody(Body):
    participant_id: Id
    phase: Literal["pre", "post"]
    score: StrictInt | StrictFloat = Field(**checked_by_the_domain(minimum=0, maximum=100))


class RevocationBody(Body):
    reason: str = Field(max_length=REASON_LENGTH)


# -- questionnaires -----------------------------------------------------------------------------

@router.get("/questionnaires/default", response_model=v.QuestionnaireView,
            tags=["questionnaires"], summary="The default ToT evaluation (fr, en, pt)")
async def default_questionnaire(who: QuestionnaireReader):
    return questionnaire_to_dict(default_tot_questionnaire())


@router.get("/questionnaires/{questionnaire_id}", response_model=v.QuestionnaireView,
            tags=["questionnaires"], summary="A questionnaire (newest version)")
async def get_questionnaire(questionnaire_id: str, who: QuestionnaireReader, service: Service,
                            version: int | None = None):
    return questionnaire_to_dict(await service.reader.questionnaire(questionnaire_id, version))


@router.post("/questionnaires", status_code=201, response_model=v.QuestionnaireView,
             tags=["questionnaires"], summary="Define a questionnaire")
async def create_questionnaire(body: QuestionnaireBody, who: QuestionnaireAuthor, service: Service):
    return await service.create_questionnaire(body.model_dump(exclude_none=True))


@router.put("/questionnaires/{questionnaire_id}", response_model=v.QuestionnaireView, tags=["questionnaires"],
            summary="Revise a questionnaire: a new version; answers to earlier versions keep theirs")
async def revise_questionnaire(questionnaire_id: str, body: QuestionnaireChanges, who: QuestionnaireAuthor,
                               service: Service):
    return await service.revise_questionnaire(questionnaire_id, body.model_dump(exclude_none=True))


@router.put("/sessions/{session_id}/questionnaire", response_model=v.AttachmentView, tags=["questionnaires"],
            summary="Attach a questionnaire version to a session")
async def attach_questionnaire(session_id: str, body: Attachment, who: OfficeOfSession, service: Service):
    return await service.attach_questionnaire(session_id, body.questionnaire_id, body.version)


@router.get("/sessions/{session_id}/questionnaire", response_model=v.QuestionnaireView, tags=["questionnaires"],
            summary="The questionnaire participants of this session answer")
async def session_questionnaire(session_id: str, who: OfSession, service: Service):
    await service.reader.session_doc(session_id)
    return questionnaire_to_dict(await service.reader.questionnaire_of(session_id))


def created_or_replaced(outcome: Outcome) -> int:
    """201 for a new submission; 200 when it replaced an earlier one or repeated a request."""
    return 200 if outcome.replaced or outcome.duplicate else 201


# -- feedback -----------------------------------------------------------------------------------

@router.post("/sessions/{session_id}/feedback", status_code=201, response_model=v.FeedbackReceipt, tags=["feedback"],
             summary="Submit the end-of-training evaluation (201 new; 200 when it replaced an earlier one)",
             responses={200: {"model": v.FeedbackReceipt, "description": "It replaced an earlier one, or repeated a request"}})
async def submit_feedback(session_id: str, body: FeedbackBody, who: Respondent, service: Service,
                          response: Response):
    outcome = await service.submit_feedback(who.principal, session_id, body.model_dump())
    response.status_code = created_or_replaced(outcome)
    return {"submission_id": outcome.record["submission_id"], "replaced": outcome.replaced is not None,
            "replaced_submission_id": outcome.replaced, "duplicate": outcome.duplicate,
            "anonymous": outcome.record["anonymous"]}


@router.post("/sessions/{session_id}/peer-feedback", status_code=201, response_model=v.PeerFeedbackReceipt,
             tags=["feedback"],
             summary="Rate a trainee's practice delivery (rater = the caller)",
             responses={200: {"model": v.PeerFeedbackReceipt, "description": "It replaced an earlier rating, or repeated a request"}})
async def submit_peer_feedback(session_id: str, body: PeerFeedbackBody, who: Rater, service: Service,
                               response: Response):
    outcome = await service.submit_peer_feedback(who.principal, session_id, body.model_dump())
    response.status_code = created_or_replaced(outcome)
    return {**outcome.record, "replaced": outcome.replaced is not None, "replaced_peer_feedback_id": outcome.replaced}


@router.post("/sessions/{session_id}/scores", response_model=v.ScoresView,
             tags=["feedback"], summary="Record a pre- or post-test score (0-100)")
async def record_score(session_id: str, body: ScoreBody, who: Scorer, service: Service):
    scores = await service.record_score(session_id, body.participant_id, body.phase, body.score,
                                        recorded_by=who.subject)
    return {"participant_id": scores.participant_id, "pre": scores.pre, "post": scores.post, "gain": scores.gain}


class QuotePick(Body):
    submission_id: Id
    item_id: Annotated[str, Field(min_length=1, max_length=64)]


class QuotesBody(Body):
    quotes: list[QuotePick] = Field(max_length=MAX_QUOTES, description="In the order they are to appear; "
                                    "only comments whose authors agreed to be quoted")


@router.put("/sessions/{session_id}/quotes", response_model=list[v.QuoteView], tags=["reports"],
            summary="Pick the quotes of the session's write-up (replaces the earlier picks)")
async def choose_quotes(session_id: str, body: QuotesBody, who: OfficeOfSession, service: Service):
    return await service.choose_quotes(session_id, [pick.model_dump() for pick in body.quotes], who.subject)


# -- reports ------------------------------------------------------------------------------------

@router.get("/sessions/{session_id}/report", response_model=v.ReportView,
            tags=["reports"], summary="The evaluation report of a session (JSON)")
async def session_report(session_id: str, who: SessionReportReader, service: Service, language: Language = "en"):
    return report_to_dict(build_session_report(await service.reader.session_facts(session_id), language))


@router.get("/sessions/{session_id}/report.csv", tags=["reports"], summary="The report's numbers as CSV",
            response_class=Response, responses=CSV_RESPONSES)
async def session_report_csv(session_id: str, who: SessionReportReader, service: Service, language: Language = "en"):
    report = build_session_report(await service.reader.session_facts(session_id), language)
    return csv_download(f"report-{session_id}.csv", CSV_COLUMNS, report_rows(report))


@router.get("/reports", response_model=v.ReportView, tags=["reports"],
            summary="Across sessions: filter by session country, office and period, respondents' sex")
async def aggregate_report(who: ReportsReader, service: Service, language: Language = "en", country: CodeFilter = None,
                           office: Annotated[str | None, Query(max_length=TITLE_LENGTH)] = None, sex: CodeFilter = None,
                           period_from: IsoDate | None = None, period_to: IsoDate | None = None):
    session_ids = await service.reader.matching_sessions(country, office, period_from, period_to, visible=who.sees)
    facts = [await service.reader.session_facts(session_id, sex) for session_id in session_ids]
    return report_to_dict(build_aggregate_report(facts, language))


@router.get("/write-up", response_model=v.WriteUpView, tags=["reports"],
            summary="The write-up of the matching sessions, like the programme's news item (JSON)",
            responses={404: {"description": "No session the caller may see matches: nothing to write up"}})
async def write_up_of(who: ReportsReader, service: Service, language: Language = "en", country: CodeFilter = None,
                      office: Annotated[str | None, Query(max_length=TITLE_LENGTH)] = None,
                      period_from: IsoDate | None = None, period_to: IsoDate | None = None,
                      session_id: Annotated[list[Id], Query(
                          max_length=20, description="Only these sessions (of those matching)")] = []):
    session_ids = await service.reader.matching_sessions(country, office, period_from, period_to, visible=who.sees)
    if session_id:
        session_ids = [sid for sid in session_ids if sid in session_id]
    return write_up_to_dict(write_up(await service.reader.stories(session_ids, language), language))


# -- trainer pool -------------------------------------------------------------------------------

@router.get("/trainers", response_model=list[v.TrainerView],
            tags=["trainers"], summary="Search the pool of certified EMM2.0 trainers (paged, by name)")
async def trainer_pool(who: PoolReader, service: Service, page: Paging, language: CodeFilter = None,
                       country: CodeFilter = None, module: Annotated[str | None, Query(max_length=MODULE_LENGTH)] = None,
                       certified_from: IsoDate | None = None,
                       certified_to: IsoDate | None = None, include_revoked: bool = False,
                       delivered_since: Annotated[IsoDate | None, Query(
                           description="Only trainers who held a government training that ended on or after "
                                       "this day (completed, with attendance recorded)")] = None):
    return page.of(await service.trainer_pool(page.offset, page.fetch, delivered_since=delivered_since,
                                              language=language, country=country, module=module,
                                              certified_from=certified_from, certified_to=certified_to,
                                              include_revoked=include_revoked))


@router.get("/sessions/{session_id}/participants/{participant_id}/certification",
            response_model=v.CertificationStatusView, tags=["trainers"],
            summary="Why a participant is or is not certified: each rule with their figure, the threshold, met or not")
async def certification_status(session_id: Annotated[str, Path(max_length=ID_MAX_LENGTH)],
                               participant_id: Annotated[str, Path(max_length=ID_MAX_LENGTH)], who: StatusReader,
                               service: Service):
    return await service.certification_status(session_id, participant_id)


@router.get("/participants/{participant_id}/certificate", response_model=v.TrainerView, tags=["trainers"],
            summary="A participant's own certificate as an EMM2.0 trainer (404 until certified)")
async def certificate(participant_id: Annotated[str, Path(max_length=ID_MAX_LENGTH)], who: CertificateReader,
                      service: Service):
    return await service.certificate(participant_id)


class CertificateCheck(BaseModel):
    """What anyone may learn of a certificate from its reference: whose it is and whether it holds."""

    certificate_reference: str
    full_name: str
    status: Literal["active", "revoked"]
    certified_at: datetime
    modules: list[str]
    revoked_at: datetime | None = None


@router.get("/certificates/{certificate_reference}", response_model=CertificateCheck, tags=["trainers"],
            summary="Check a trainer's certificate by the reference printed on it (public, no token)",
            responses={404: {"description": "No certificate has this reference"},
                       429: {"description": "Too many checks from this IP or of this reference; see Retry-After"}})
async def check_certificate(certificate_reference: Annotated[str, Path(max_length=ID_MAX_LENGTH)], _: Public,
                            __: CheckLimit, service: Service):
    found = await service.certificate_by_reference(certificate_reference)
    return CertificateCheck(**{name: found.get(name) for name in CertificateCheck.model_fields})


@router.post("/trainers/{trainer_id}/revoke", response_model=v.RevocationView,
             tags=["trainers"], summary="Revoke a certification (trainer.revoked)")
async def revoke(trainer_id: str, body: RevocationBody, who: Revoker, service: Service):
    return await service.revoke(trainer_id, body.reason, who.subject)


def create_app() -> FastAPI:
    settings = Settings()
    holder: dict[str, Evaluation] = {}

    def outbox_collections(database: Any) -> list[Any]:
        holder["evaluation"] = bootstrap.evaluation(settings, database, on_commit=app.state.runtime.nudge)
        return holder["evaluation"].command.outbox_collections()

    async def on_start(runtime) -> None:
        app.state.evaluation = holder["evaluation"]
        app.state.scopes = EvaluationScopes(holder["evaluation"].store)

    app = create_service_app(settings, title="EMM2.0 evaluation service",
                             description="Questionnaires, evaluations, peer feedback, pre/post tests, reports "
                                         "and the pool of certified trainers.",
                             outbox_collections=outbox_collections, on_start=on_start)
    app.include_router(router)
    return app


# -- CSV exports (issue 14; emm_common.csv_export writes every one) ---------------------------

TRAINER_COLUMNS = ("trainer_id", "participant_id", "full_name", "country", "languages", "modules", "status",
                   "certified_at", "certificate_reference", "session_id", "government_sessions_delivered",
                   "participants_reached", "delivered_session_ids", "upcoming_session_ids")


@router.get("/reports.csv", tags=["reports"], response_class=Response, responses=CSV_RESPONSES,
            summary="The report across sessions as CSV, with the filters of /reports; its breakdowns by country, "
                    "office, sex and month, and the sessions it counts")
async def aggregate_report_csv(who: ReportsReader, service: Service, language: Language = "en",
                               country: CodeFilter = None,
                               office: Annotated[str | None, Query(max_length=TITLE_LENGTH)] = None,
                               sex: CodeFilter = None, period_from: IsoDate | None = None, period_to: IsoDate | None = None):
    session_ids = await service.reader.matching_sessions(country, office, period_from, period_to, visible=who.sees)
    facts = [await service.reader.session_facts(session_id, sex) for session_id in session_ids]
    return csv_download("reports.csv", CSV_COLUMNS, report_rows(build_aggregate_report(facts, language)))


@router.get("/trainers.csv", tags=["trainers"], response_class=Response, responses=CSV_RESPONSES,
            summary="The trainer pool as CSV: every trainer matching the filters of /trainers (not one page)")
async def trainer_pool_csv(who: PoolReader, service: Service, language: CodeFilter = None, country: CodeFilter = None,
                           module: Annotated[str | None, Query(max_length=MODULE_LENGTH)] = None,
                           certified_from: IsoDate | None = None, certified_to: IsoDate | None = None,
                           include_revoked: bool = False,
                           delivered_since: Annotated[IsoDate | None, Query(
                               description="Only trainers who held a government training that ended on or after "
                                           "this day (completed, with attendance recorded)")] = None):
    trainers = await service.trainer_pool(delivered_since=delivered_since, language=language, country=country,
                                          module=module, certified_from=certified_from, certified_to=certified_to,
                                          include_revoked=include_revoked)
    return csv_download("trainers.csv", TRAINER_COLUMNS,
                        [[trainer.get(column) for column in TRAINER_COLUMNS] for trainer in trainers])
