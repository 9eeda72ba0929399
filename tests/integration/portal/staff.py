"""Helpers of the organizer's and facilitator's page tests: a signed-in staff browser, a session
that takes place today (attendance can be marked), and reading a page's form back."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import httpx

from emm_portal.adapters.session_cookie import CookieCodec
from emm_portal.domain.visitor import Visitor
from tests.integration.portal.conftest import COOKIE, Stack, browser, session_body
from tests.processes import PORTAL_COOKIE_SECRET, ServiceProcess

ORGANIZER, FACILITATOR = "stf-organizer", "stf-facilitator"


def staff_browser(portal: ServiceProcess, stack: Stack, role: str = "organizer", staff_id: str | None = None,
                  language: str = "fr") -> httpx.Client:
    """A browser without JavaScript, signed in as a staff member (the cookie the portal sets after
    a staff sign-in link, made with the test's keys)."""
    staff_id = staff_id or (ORGANIZER if role == "organizer" else FACILITATOR)
    client = browser(portal, **{"accept-language": language})
    token = stack.issuer.issue(staff_id, role, ttl_seconds=3600, regional=True if role == "organizer" else None)
    visitor = Visitor(language=language).signed_in_as(token, role, staff_id, time.time() + 3600, name=staff_id)
    client.cookies.set(COOKIE, CookieCodec(PORTAL_COOKIE_SECRET.encode()).encode(visitor))
    return client


def session_today(stack: Stack, *, status: str = "in_progress", **overrides: Any) -> str:
    """A session whose first day is today, moved on to `status`, with FACILITATOR facilitating."""
    today = date.today()
    body = session_body(**{"start_date": today.isoformat(), "end_date": (today + timedelta(days=1)).isoformat(),
                           "facilitator_ids": [FACILITATOR], "capacity": 5,
                           "modules": ["migration-governance", "labour-migration"], **overrides})
    response = httpx.post(f"{stack.registration.url}/sessions", json=body, headers=stack.organizer(), timeout=30)
    assert response.status_code == 201, response.text
    session_id = response.json()["session"]["session_id"]
    for step in {"scheduled": [], "open": ["open"], "in_progress": ["open", "in_progress"]}[status]:
        moved = httpx.post(f"{stack.registration.url}/sessions/{session_id}/status", json={"status": step},
                           headers=stack.organizer(), timeout=30)
        assert moved.status_code == 200, moved.text
    return session_id


def api_get(stack: Stack, service: ServiceProcess, path: str, **params: Any) -> Any:
    response = httpx.get(f"{service.url}{path}", params=params, headers=stack.organizer(), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def field_value(page: httpx.Response, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page.text)
    return found.group(1) if found else None


def error_of(page: httpx.Response, name: str) -> str | None:
    found = re.search(rf'id="error-{re.escape(name)}"><span class="visually-hidden">[^<]*</span>\s*([^<]+)<', page.text)
    return found.group(1).strip() if found else None
