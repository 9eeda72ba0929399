"""Response bodies of the evaluation API: the fields every answer has, as the OpenAPI document
states them. Report and questionnaire bodies keep any further field the domain adds (their
exporters, `report_to_dict` and `questionnaire_to_dict`, are the one definition of their shape)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


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
