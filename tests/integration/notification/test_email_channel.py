"""The email channel against a real SMTP server (aiosmtpd) over real TCP on loopback."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy

import icalendar
import pytest
from aiosmtpd.controller import Controller

from emm_notification.adapters.email_channel import EmailChannel
from emm_common.calendar import CalendarParty, session_calendar
from emm_notification.domain.calendar import calendar_attachment
from emm_notification.domain.channel import Channel, OutgoingMessage
from emm_notification.domain.messages import CalendarAction
from emm_notification.domain.retry import PermanentDeliveryError, TemporaryDeliveryError
from tests.unit.notification import examples as ex

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"


class Mailbox:
    """Accepts every message and keeps it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class BusyServer:
    async def handle_DATA(self, server, session, envelope):
        return "451 try later"


class UnknownRecipient:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 no such user"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def smtp_server(handler):
    controller = Controller(handler, hostname=HOST, port=free_port())
    controller.start()
    return controller


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = smtp_server(box)
    yield box, controller.port
    controller.stop()


def channel(port: int, **options) -> EmailChannel:
    return EmailChannel(HOST, port, "emm-noreply@emm.iom.int", from_name="IOM EMM2.0", timeout=5, **options)


def invitation_message() -> OutgoingMessage:
    ics = session_calendar(ex.session(), CalendarAction.REQUEST,
                           organizer=CalendarParty("EMMinfo@iom.int", "IOM EMM2.0 Team"),
                           attendee=CalendarParty("joao@example.org", "João Tavares"))
    return OutgoingMessage(
        notification_id="ntf-0123456789abcdef", to_address="joao@example.org", to_name="João Tavares",
        subject="A sua vaga está confirmada: EMM2.0 Training-of-Trainers, sessão 1",
        text="Caro(a) João Tavares,\n\nA sua vaga está confirmada.\n",
        html="<p>Caro(a) João Tavares,</p><p>A sua vaga está confirmada.</p>",
        attachments=(calendar_attachment(ics, CalendarAction.REQUEST),), language="pt")


def test_email_channel_is_a_channel():
    assert isinstance(channel(25), Channel)
    assert channel(25).name == "email"


async def test_message_with_text_html_and_invitation_arrives_intact(mailbox):
    box, port = mailbox
    await channel(port).send(invitation_message())

    [(sender, recipients, content)] = box.messages
    assert sender == "emm-noreply@emm.iom.int"
    assert recipients == ["joao@example.org"]
    email = message_from_bytes(content, policy=policy.default)
    assert email["Message-ID"] == "<ntf-0123456789abcdef@emm.iom.int>"
    assert email["Subject"] == "A sua vaga está confirmada: EMM2.0 Training-of-Trainers, sessão 1"
    assert email["To"].addresses[0].display_name == "João Tavares"
    assert email["Content-Language"] == "pt"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/mixed"

    alternative, invitation = email.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and "A sua vaga está confirmada." in text.get_content()
    assert html.get_content_type() == "text/html" and "<p>Caro(a) João Tavares,</p>" in html.get_content()

    assert invitation.get_content_type() == "text/calendar"
    assert invitation.get_param("method") == "REQUEST"
    assert invitation.get_filename() == "invitation.ics"
    calendar = icalendar.Calendar.from_ical(invitation.get_payload(decode=True))
    assert calendar["METHOD"] == "REQUEST"
    assert str(calendar.walk("VEVENT")[0]["UID"]) == "ses-dakar-tot-1@emm.iom.int"


async def test_resending_a_notification_keeps_its_message_id(mailbox):
    box, port = mailbox
    for _ in range(2):
        await channel(port).send(invitation_message())
    ids = {message_from_bytes(content, policy=policy.default)["Message-ID"] for _, _, content in box.messages}
    assert ids == {"<ntf-0123456789abcdef@emm.iom.int>"}


async def test_text_only_message_is_a_single_plain_part(mailbox):
    box, port = mailbox
    await channel(port).send(OutgoingMessage("ntf-2", "john@example.org", "John Mensah", "Hello", "Plain text\n"))
    email = message_from_bytes(box.messages[0][2], policy=policy.default)
    assert email.get_content_type() == "text/plain"


async def test_a_4xx_reply_is_a_temporary_failure():
    controller = smtp_server(BusyServer())
    try:
        with pytest.raises(TemporaryDeliveryError) as failure:
            await channel(controller.port).send(invitation_message())
    finally:
        controller.stop()
    assert failure.value.code == 451
    assert "try later" in failure.value.reason


async def test_a_5xx_reply_is_a_permanent_failure():
    controller = smtp_server(UnknownRecipient())
    try:
        with pytest.raises(PermanentDeliveryError) as failure:
            await channel(controller.port).send(invitation_message())
    finally:
        controller.stop()
    assert failure.value.code == 550
    assert "no such user" in failure.value.reason


async def test_a_closed_port_is_a_temporary_failure():
    with pytest.raises(TemporaryDeliveryError) as failure:
        await channel(free_port()).send(invitation_message())
    assert "unreachable" in failure.value.reason


async def test_a_server_that_never_answers_is_a_temporary_failure():
    silent = await asyncio.start_server(lambda reader, writer: None, HOST, 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TemporaryDeliveryError):
            await EmailChannel(HOST, port, "emm-noreply@emm.iom.int", timeout=0.5).send(invitation_message())
    finally:
        silent.close()


async def test_a_long_subject_stays_on_the_subject_line(mailbox):
    subject = "Your place is confirmed: EMM2.0 Training-of-Trainers - IBM project managers in West Africa"
    message = OutgoingMessage(notification_id="ntf-long", to_address="a@example.org", to_name="A",
                              subject=subject, text="hello")
    box, port = mailbox
    await channel(port).send(message)
    [(_, _, raw)] = box.messages
    assert f"Subject: {subject}\r\n".encode() in raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
