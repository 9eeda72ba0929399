"""Who answered an evaluation, as this service alone can tell.

An anonymous `feedback.submitted` carries no participant id. To count it for certification (the
person evaluated the session) this service still needs to know whose it is, also when it
rebuilds its projections from the topic. So the event carries a *seal*: the participant id
encrypted (AES-256-GCM) under a key only this service holds, with a fresh random nonce for every
submission and the session and submission ids as associated data. Two seals of one person look
unrelated, and a seal says nothing to anyone without the key: nothing on the topic links an
anonymous answer to a named one, or to another anonymous one, of the same person.

Inside the service, one person's evaluation of one session is kept under `respondent_ref`, a
pseudonym (HMAC) that is never published.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEAL_VERSION = "s1."
_NONCE_BYTES = 12


class InvalidSeal(ValueError):
    """A seal this service did not make for this submission (forged, altered, or another key)."""


def respondent_ref(key: bytes, session_id: str, participant_id: str) -> str:
    """The pseudonym of a participant within one session (HMAC-SHA256, 32 hex digits): where
    this service keeps that person's current evaluation. Never published."""
    message = f"{session_id}\x1f{participant_id}".encode()
    return "r" + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def seal_respondent(key: bytes, session_id: str, submission_id: str, participant_id: str) -> str:
    """The participant id of an anonymous submission, readable only with `key`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, participant_id.encode(), _bound_to(session_id, submission_id))
    return SEAL_VERSION + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_seal(key: bytes, session_id: str, submission_id: str, seal: str) -> str:
    """The participant id inside a seal made by `seal_respondent` for this submission."""
    if not seal.startswith(SEAL_VERSION):
        raise InvalidSeal("unknown seal version")
    body = seal[len(SEAL_VERSION):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        opened = _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _bound_to(session_id, submission_id))
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise InvalidSeal("the seal was not made by this service for this submission") from exc
    return opened.decode()


def _cipher(key: bytes) -> AESGCM:
    # A key of its own, derived from the service's respondent key, so the HMAC and the cipher never share one.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"emm-evaluation respondent seal v1")
    return AESGCM(derived.derive(key))


def _bound_to(session_id: str, submission_id: str) -> bytes:
    return f"{session_id}\x1f{submission_id}".encode()
