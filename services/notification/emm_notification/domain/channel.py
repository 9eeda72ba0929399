"""The port every delivery channel implements (email today; SMS or WhatsApp gateways later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable


class Attachment(NamedTuple):
    """A file sent with a message, e.g. ("invitation.ics", "text/calendar; method=REQUEST", b"...")."""

    filename: str
    mime: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one recipient. `notification_id` identifies it end to end, so a
    channel can let the receiver recognise a duplicate (the email Message-ID is derived from it)."""

    notification_id: str
    to_address: str
    to_name: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None


@runtime_checkable
class Channel(Protocol):
    """Delivers one message, or raises TemporaryDeliveryError / PermanentDeliveryError."""

    name: str

    async def send(self, message: OutgoingMessage) -> None: ...
