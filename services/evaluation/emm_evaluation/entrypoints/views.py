"""Response bodies of the evaluation API: the fields every answer has, as the OpenAPI document
states them. Report and questionnaire bodies keep any further field the domain adds (their
exporters, `report_to_dict` and `questionnaire_to_dict`, are the one definition of their shape)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class QuestionnaireView(Open):
    questionnaire_id: str
    version: int
    title: dict[str, str]
    items: list[dict[str, Any]]


class AttachmentView(BaseModel):
    questionnaire_id: str
    version: int


class FeedbackReceipt(BaseModel):
    submission_id: str
    replaced: bool
    replaced_submission_id: str | None
    duplicate: bool
    anonymous: bool


class PeerFeedbackReceipt(Open):
    """The rating as recorded (the `peer_feedback.submitted` payload), and what it replaced."""

    peer_feedback_id: str
    replaced: bool
    replaced_peer_feedback_id: str | None


class ScoresView(BaseModel):
    participant_id: str
    pre: float | None
    post: float | None
    gain: float | None


class PersonScoresView(ScoresView):
    pass_mark: float = Field(description="The post-test pass mark of the certification rules")


class QuoteView(BaseModel):
    submission_id: str
    item_id: str
    text: str
    author: str | None = Field(description="Only when its author agreed to be quoted by name")


class WriteUpView(Open):
    language: str
    title: str
    paragraphs: list[str] = Field(description="The news item, to print as it is")
    trainers_certified: int
    sessions: list[dict] = Field(description="The facts behind the sentences, one entry per session")


class ReportView(Open):
    language: str
    registered: int
    responses: int
    response_rate: float | None


class TrainerView(Open):
    trainer_id: str
    participant_id: str
    session_id: str
    certified_at: str
    certificate_reference: str
    full_name: str
    status: str


class RevocationView(Open):
    trainer_id: str
    participant_id: str
    revoked_at: str
    reason: str
    revoked_by: str


class RuleCheckView(BaseModel):
    rule: Literal["attendance", "evaluation", "peer_rubric", "post_test"]
    figure: float | bool | None = Field(description="The person's: share of days attended, evaluation submitted, "
                                                    "best peer-rubric average, post-test score (None: none yet)")
    threshold: float | bool
    met: bool
    detail: str = Field(description="The same in words, e.g. 'attended 1 of 2 days, needs 80%'")


class CertificationStatusView(BaseModel):
    session_id: str
    participant_id: str
    full_name: str
    session_kind: str
    status: str | None = Field(description="The session's status")
    enrollment_status: str
    certified: bool
    certificate_reference: str | None
    final: bool = Field(description="True once the session is completed: the decision is taken on these figures")
    rules: list[RuleCheckView] = Field(description="Empty when the session does not certify (not a ToT)")
    knowledge_test: PersonScoresView = Field(description="The person's pre- and post-test scores (None: not taken)")

