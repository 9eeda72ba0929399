"""What a token says about itself, read without checking its signature. The portal only uses it
to choose a page (which session an invitation is for, whether a link is a staff link); the API
that receives the token checks it and decides."""

from __future__ import annotations

from typing import Any

import jwt


def unverified_claims(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}
