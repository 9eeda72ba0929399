"""The local SMTP capture shows a message's bodies and attachments over HTTP, without the .eml file.

Each test starts its own capture server on free ports (the shared one on 1025/8025 is the
lead's running copy, not this checkout's code)."""

from __future__ import annotations

import json
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

CAPTURE = Path(__file__).parents[2] / "deploy" / "local" / "smtp_capture.py"
ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:ses-1@emm\r\n"
       b"SUMMARY:ToT EMM2.0 Dakar\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def capture(tmp_path):
    """(smtp_port, reader_url) of a capture server of this checkout, stopped after the test."""
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, str(CAPTURE), "--port", str(smtp_port), "--http-port",
                                str(http_port), "--maildir", str(tmp_path / "mail")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    reader = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"{reader}/messages", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"capture server did not start: {process.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
    yield smtp_port, reader
    process.terminate()
    process.wait(10)


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers["Content-Type"], response.read()


def invitation() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "emm@iom.int"
    message["To"] = "awa@example.org"
    message["Subject"] = "Invitation : ToT EMM2.0, Dakar, 17-18 mai"
    message["Message-ID"] = "<invite-1@emm>"
    message.set_content("Bonjour Awa,\nvous êtes inscrite.\n")
    message.add_alternative("<p>Bonjour Awa,<br>vous êtes <b>inscrite</b>.</p>\n", subtype="html")
    message.add_attachment(ICS, maintype="text", subtype="calendar", filename="invitation.ics",
                           params={"method": "REQUEST"})
    return message


def test_a_message_shows_its_headers_text_html_and_attachments(capture):
    smtp_port, reader = capture
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
        smtp.send_message(invitation())

    [listed] = json.loads(get(f"{reader}/messages?to=awa@example.org")[2])
    assert listed["subject"] == "Invitation : ToT EMM2.0, Dakar, 17-18 mai"  # the listing is as it was
    assert listed["url"] == f"/messages/{listed['id']}"

    status, content_type, body = get(reader + listed["url"])
    message = json.loads(body)
    assert (status, content_type) == (200, "application/json")
    assert message["id"] == listed["id"] and message["to"] == ["awa@example.org"]
    assert message["subject"] == listed["subject"] and message["message_id"] == "<invite-1@emm>"
    assert ["From", "emm@iom.int"] in message["headers"]
    assert message["text"] == "Bonjour Awa,\nvous êtes inscrite.\n"
    assert message["html"] == "<p>Bonjour Awa,<br>vous êtes <b>inscrite</b>.</p>\n"
    assert message["attachments"] == [{"filename": "invitation.ics", "content_type": "text/calendar",
                                       "size": len(ICS)}]

    status, content_type, raw = get(f"{reader}/messages/{listed['id']}.eml")
    assert (status, content_type) == (200, "message/rfc822") and b'filename="invitation.ics"' in raw


def test_a_text_only_message_has_no_html_and_no_attachments(capture):
    smtp_port, reader = capture
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
        smtp.sendmail("emm@iom.int", ["ibm@example.org"], b"Subject: Rappel\r\n\r\nDemain 9h.\r\n")
    [listed] = json.loads(get(f"{reader}/messages")[2])
    message = json.loads(get(reader + f"/messages/{listed['id']}")[2])
    assert (message["text"], message["html"], message["attachments"]) == ("Demain 9h.\n", None, [])


def test_an_unknown_message_is_404(capture):
    _, reader = capture
    for path in ("/messages/1-deadbeef", "/messages/1-deadbeef.eml", "/messages/../secret"):
        with pytest.raises(urllib.error.HTTPError) as error:
            get(reader + path)
        assert error.value.code == 404, path
