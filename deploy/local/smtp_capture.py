"""A real SMTP server on loopback that keeps every message it accepts, for local runs and tests.

SMTP on --port (default 1025) accepts any sender and recipient and stores each message as an
.eml file in --maildir. A small HTTP reader on --http-port (default 8025) shows what arrived:

    GET    /messages            JSON list: id, url, from, to, subject, received_at (oldest first)
    GET    /messages?to=ADDR    only messages for that recipient
    GET    /messages/<id>       JSON: the same and the headers, the text and HTML bodies, the attachments
                                (filename, content type, size; an .ics invitation is one)
    GET    /messages/<id>.eml   the raw message
    DELETE /messages            empty the mailbox
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        meta = {"id": message_id, "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (self.maildir / f"{message_id}.eml").write_bytes(envelope.original_content or envelope.content)
        # The .json is written last: a reader that sees it also sees the whole message.
        (self.maildir / f"{message_id}.json").write_text(json.dumps(meta))
        return "250 Message accepted for delivery"


MESSAGE_PATH = re.compile(r"/messages/(?P<id>[0-9]+-[0-9a-f]{8})(?P<eml>\.eml)?")


def parse(maildir: Path, message_id: str) -> email.message.EmailMessage:
    return email.message_from_bytes((maildir / f"{message_id}.eml").read_bytes(), policy=email.policy.default)


def summary(meta: dict, parsed: email.message.EmailMessage) -> dict:
    return {**meta, "url": f"/messages/{meta['id']}", "subject": str(parsed.get("Subject", "")),
            "message_id": str(parsed.get("Message-ID", ""))}


def list_messages(maildir: Path, to: str | None) -> list[dict]:
    messages = []
    for meta_file in sorted(maildir.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        if to and to.lower() not in (addr.lower() for addr in meta["to"]):
            continue
        messages.append(summary(meta, parse(maildir, meta["id"])))
    return messages


def text_of(part: email.message.EmailMessage | None) -> str | None:
    """A body part decoded, with SMTP's CRLF line ends made plain newlines (the .eml keeps them)."""
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or wrong charset: show what can be read
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def read_message(maildir: Path, message_id: str) -> dict:
    """One message as JSON: its summary, every header in order, the text/plain and text/html
    bodies (None when absent) and every other leaf part as an attachment."""
    parsed = parse(maildir, message_id)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    # Every leaf part that is not one of the two bodies, however deeply nested (iter_attachments
    # only looks at the top level).
    attachments = [{"filename": part.get_filename(), "content_type": part.get_content_type(),
                    "size": len(part.get_payload(decode=True) or b"")}
                   for part in parsed.walk()
                   if not part.is_multipart() and part is not text and part is not html]
    return {**summary(json.loads((maildir / f"{message_id}.json").read_text()), parsed),
            "headers": [[name, str(value)] for name, value in parsed.items()],
            "text": text_of(text), "html": text_of(html), "attachments": attachments}


def make_reader(maildir: Path):
    class Reader(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's hook name
            url = urlparse(self.path)
            if url.path == "/messages":
                to = parse_qs(url.query).get("to", [None])[0]
                self._send(200, json.dumps(list_messages(maildir, to)).encode(), "application/json")
            elif match := MESSAGE_PATH.fullmatch(url.path):
                if not (maildir / f"{match['id']}.json").exists():  # written last: none yet, or not whole
                    self._send(404, b'{"detail": "no such message"}', "application/json")
                elif match["eml"]:
                    self._send(200, (maildir / f"{match['id']}.eml").read_bytes(), "message/rfc822")
                else:
                    self._send(200, json.dumps(read_message(maildir, match["id"])).encode(), "application/json")
            else:
                self._send(404, b'{"detail": "see /messages"}', "application/json")

        def do_DELETE(self):  # noqa: N802
            if urlparse(self.path).path != "/messages":
                self._send(404, b'{"detail": "see /messages"}', "application/json")
                return
            for path in maildir.iterdir():
                path.unlink()
            self._send(200, b'{"deleted": true}', "application/json")

        def log_message(self, *args) -> None:
            pass

    return Reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    args.maildir.mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host, port=args.port)
    controller.start()
    reader = ThreadingHTTPServer((args.host, args.http_port), make_reader(args.maildir))
    threading.Thread(target=reader.serve_forever, daemon=True).start()
    print(f"SMTP capture on {args.host}:{args.port}, reader on http://{args.host}:{args.http_port}/messages",
          flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
