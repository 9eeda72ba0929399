"""The notification HTTP API: the log for support staff ("did she get the invitation?") and
resend of failed messages by an organizer.

    uvicorn emm_notification.entrypoints.api:create_app --factory --port 8003
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from pydantic import BaseModel, Field

from emm_common.authorization import ALL, FILTERED, OWN_OFFICE, YES, Allow, Caller
from emm_common.http import create_service_app
from emm_common.paging import Paging
from emm_common.identifiers import ID_MAX_LENGTH
from emm_notification.adapters.notification_log import MongoNotificationLog
from emm_notification.adapters.scopes import NotificationScopes
from emm_notification.config import Settings
from emm_notification.service_layer.log_entries import Status
from emm_notification.service_layer.resend import NotificationNotFound, request_resend

# Who may call each route (docs/authorization.md is generated from these; see emm_common.authorization).
LogReader = Annotated[Caller, Depends(Allow(organizer=FILTERED, regional=ALL, service=YES))]
EntryReader = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, service=YES,
                                              target="notification_id"))]
Resender = Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL, target="notification_id"))]


class AttemptView(BaseModel):
    outcome: str = Field(description="sent, retry, failed, interrupted, skipped, awaiting_contact, "
                                     "contact_received or resend_requested")
    at: datetime
    attempt: int | None = None
    reason: str | None = None
    by: str | None = None


class NotificationView(BaseModel):
    notification_id: str
    kind: str
    channel: str
    recipient_participant_id: str
    session_id: str | None
    caused_by_event_id: str
    language: str
    status: Status
    reason: str | None = Field(None, description="Why it was skipped, is waiting, or failed last")
    attempts: int
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None
    possible_duplicate: bool = Field(
        False, description="A worker died after the mail server may have accepted an attempt; the copy has the "
                           "same Message-ID")
    history: list[AttemptView]


def view(entry: dict[str, Any]) -> NotificationView:
    return NotificationView(notification_id=entry["_id"], **{k: v for k, v in entry.items() if k != "_id"})


def log_of(request: Request) -> MongoNotificationLog:
    return MongoNotificationLog(request.app.state.runtime.database)


router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationView], summary="The notification log, newest first, a page at a time")
async def list_notifications(request: Request, who: LogReader, page: Paging,
                             participant_id: Annotated[str | None, Query(max_length=ID_MAX_LENGTH)] = None,
                             session_id: Annotated[str | None, Query(max_length=ID_MAX_LENGTH)] = None,
                             status_: Annotated[Status | None, Query(alias="status")] = None) -> list[NotificationView]:
    within = None if who.offices is None else await request.app.state.scopes.sessions_of(who.offices)
    entries = await log_of(request).find(participant_id=participant_id, session_id=session_id,
                                         status=status_.value if status_ else None, limit=page.fetch,
                                         offset=page.offset, within_sessions=within)
    return [view(e) for e in page.of(entries)]


@router.get("/{notification_id}", response_model=NotificationView, summary="One message with its attempts",
            responses={404: {"description": "No such notification"}})
async def get_notification(notification_id: str, request: Request, _: EntryReader) -> NotificationView:
    entry = await log_of(request).get(notification_id)
    if entry is None:
        raise NotificationNotFound(notification_id)
    return view(entry)


@router.post("/{notification_id}/resend", response_model=NotificationView, status_code=status.HTTP_202_ACCEPTED,
             summary="Send a failed message again (the worker delivers it within seconds)",
             responses={404: {"description": "No such notification"},
                        409: {"description": "Not failed, or a resend was already requested"}})
async def resend(notification_id: str, request: Request, who: Resender) -> NotificationView:
    entry = await request_resend(log_of(request), notification_id, by=who.subject,
                                 now=datetime.now(timezone.utc))
    return view(entry)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    async def on_start(runtime) -> None:
        app.state.scopes = NotificationScopes(runtime.database)

    app = create_service_app(
        settings, title="EMM2.0 notification service",
        description="Every message sent to participants and organizers, its status and attempts; resend of "
                    "failed ones. Messages themselves are caused by events, not by this API.", on_start=on_start)
    app.include_router(router)
    return app
