"""The email channel: one message per SMTP transaction, sent with aiosmtplib."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import aiosmtplib
from pydantic import SecretStr

from emm_common import metrics

from emm_notification.domain.channel import Attachment, OutgoingMessage
from emm_notification.domain.retry import (DeliveryError, PermanentDeliveryError, TemporaryDeliveryError,
                                           delivery_error_for_reply)

SMTP_POLICY = SMTP.clone(max_line_length=998)


class EmailChannel:
    """Delivers OutgoingMessages through an SMTP server (Channel protocol)."""

    name = "email"

    def __init__(self, host: str, port: int, from_address: str, *, from_name: str = "IOM EMM2.0",
                 starttls: bool = False, use_tls: bool = False, username: str | None = None,
                 password: SecretStr | str | None = None, timeout: float = 30.0,
                 message_id_domain: str | None = None) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address
        self.from_name = from_name
        self.starttls = starttls
        self.use_tls = use_tls
        self.username = username
        self._password = password.get_secret_value() if isinstance(password, SecretStr) else password
        self.timeout = timeout
        self.message_id_domain = message_id_domain or from_address.rpartition("@")[2] or "emm.iom.int"

    def build(self, message: OutgoingMessage, *, now: datetime | None = None) -> EmailMessage:
        """The MIME message: multipart/alternative (text, html), plus attachments (multipart/mixed)."""
        # Long subjects stay on the Subject line: the default 78-column folding moved a whole
        # subject to a continuation line, which some readers show with a leading space.
        email = EmailMessage(policy=SMTP_POLICY)
        email["From"] = formataddr((self.from_name, self.from_address))
        email["To"] = formataddr((message.to_name, message.to_address))
        email["Subject"] = message.subject
        email["Date"] = format_datetime(now or datetime.now(timezone.utc))
        # Derived from the notification id so a resend of the same notification is recognisable.
        email["Message-ID"] = f"<{message.notification_id}@{self.message_id_domain}>"
        # RFC 3834: tells out-of-office responders not to reply to a machine.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.text, charset="utf-8")
        if message.html:
            email.add_alternative(message.html, subtype="html", charset="utf-8")
        for attachment in message.attachments:
            _attach(email, Attachment(*attachment))
        # Set last: building the multipart moves Content-* headers down into the first part.
        if message.language:
            email["Content-Language"] = message.language
        return email

    async def send(self, message: OutgoingMessage) -> None:
        """Send one message, or raise TemporaryDeliveryError / PermanentDeliveryError."""
        started, outcome = time.perf_counter(), "error"
        try:
            # Flattened here with our policy: aiosmtplib would fold headers at 78 columns again.
            await aiosmtplib.send(
                self.build(message).as_bytes(policy=SMTP_POLICY), sender=self.from_address, recipients=[message.to_address],
                hostname=self.host, port=self.port, username=self.username, password=self._password,
                start_tls=self.starttls, use_tls=self.use_tls, timeout=self.timeout)
            outcome = "accepted"
        except Exception as error:  # noqa: BLE001 - every failure is classified, none escapes raw
            raise delivery_error(error) from error
        finally:
            metrics.SMTP_SECONDS.labels(outcome).observe(time.perf_counter() - started)


def delivery_error(error: BaseException) -> DeliveryError:
    """Classify an aiosmtplib or socket failure: 4xx replies and connection trouble are temporary,
    5xx replies are permanent."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusals = [delivery_error_for_reply(r.code, r.message) for r in error.recipients]
        if refusals and all(isinstance(r, PermanentDeliveryError) for r in refusals):
            return refusals[0]
        return next((r for r in refusals if isinstance(r, TemporaryDeliveryError)),
                    TemporaryDeliveryError("recipients refused"))
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return delivery_error_for_reply(error.code, error.message)
    if isinstance(error, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected,
                          aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError, OSError)):
        return TemporaryDeliveryError(f"mail server unreachable: {type(error).__name__}: {error}")
    # Anything else (e.g. STARTTLS not offered) is a set-up problem an operator can fix while we
    # keep retrying; the retry limit still bounds it.
    return TemporaryDeliveryError(f"{type(error).__name__}: {error}")


def _attach(email: EmailMessage, attachment: Attachment) -> None:
    content_type, *param_parts = [part.strip() for part in attachment.mime.split(";")]
    maintype, _, subtype = content_type.partition("/")
    params = dict(part.split("=", 1) for part in param_parts if "=" in part)
    email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                         filename=attachment.filename, params=params)
