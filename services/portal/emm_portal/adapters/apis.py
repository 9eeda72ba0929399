"""The three APIs over HTTP: one httpx.AsyncClient per portal process, short timeouts, the
signed-in person's bearer token on every call. Status codes and connection errors become the
outcomes of domain/outcomes.py, so pages never see httpx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from emm_common import logs
from emm_portal.domain import outcomes

OUTCOMES: dict[int, type[outcomes.ApiOutcome]] = {
    401: outcomes.NotSignedIn, 403: outcomes.NotAllowed, 404: outcomes.NotFound, 409: outcomes.Refused,
    422: outcomes.Invalid}

LOCATIONS = ("body", "query", "path", "header")


def field_errors(detail: Any) -> dict[str, str]:
    """`detail[].loc` -> message, the field named without its location: ["body", "email"] is
    "email", ["body", "participants", 0, "email"] is "participants.0.email"."""
    if not isinstance(detail, list):
        return {}
    errors: dict[str, str] = {}
    for error in detail:
        if not isinstance(error, dict) or not isinstance(error.get("loc"), list):
            continue
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in LOCATIONS:
            loc = loc[1:]
        errors.setdefault(".".join(loc) or "_", str(error.get("msg", "")))
    return errors


def message_of(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", ""))
    return ""


def outcome_of(service: str, response: httpx.Response) -> outcomes.ApiOutcome:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    kind = OUTCOMES.get(response.status_code)
    if kind is None:
        kind = outcomes.Unavailable if response.status_code >= 500 else outcomes.Refused
    return kind(service, message_of(detail) or f"HTTP {response.status_code}", field_errors(detail))


@dataclass(frozen=True)
class Api:
    """One service's API, called as one person (`token`) or as nobody (sign-in, healthz)."""

    service: str
    client: httpx.AsyncClient
    base_url: str
    token: str | None = None
    for_address: str | None = None  # the visitor's IP, for the APIs' rate limits (X-Forwarded-For)

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                   raw: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if traceparent := logs.current_traceparent():  # the page's request and the API's lines share it
            headers["traceparent"] = traceparent
        if self.for_address:
            headers["X-Forwarded-For"] = self.for_address
        try:
            response = await self.client.request(method, self.base_url + path, json=json, params=params,
                                                 headers=headers)
        except httpx.HTTPError as exc:
            raise outcomes.Unavailable(self.service, type(exc).__name__) from exc
        if response.status_code >= 300:
            raise outcome_of(self.service, response)
        if raw:
            return response
        return response.json() if response.content else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.call("POST", path, json=body if body is not None else {})

    async def put(self, path: str, body: Any) -> Any:
        return await self.call("PUT", path, json=body)

    async def patch(self, path: str, body: Any) -> Any:
        return await self.call("PATCH", path, json=body)

    async def reachable(self) -> str:
        """'ok', or why not (for /readyz)."""
        try:
            response = await self.client.get(self.base_url + "/healthz", timeout=2)
            return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            return f"unreachable: {type(exc).__name__}"


@dataclass(frozen=True)
class Apis:
    """The three APIs, each called with the same token."""

    registration: Api
    evaluation: Api
    notification: Api

    def as_(self, token: str | None, for_address: str | None = None) -> "Apis":
        """The APIs called with `token`, on behalf of the visitor at `for_address` (their IP)."""
        return Apis(*(Api(api.service, api.client, api.base_url, token, for_address)
                      for api in (self.registration, self.evaluation, self.notification)))


def connect(registration_url: str, evaluation_url: str, notification_url: str, timeout_seconds: float) -> Apis:
    """The APIs over one pooled client; close it with `close(apis)`."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds, connect=min(2.0, timeout_seconds)),
                               follow_redirects=False)
    return Apis(Api("registration", client, registration_url.rstrip("/")),
                Api("evaluation", client, evaluation_url.rstrip("/")),
                Api("notification", client, notification_url.rstrip("/")))


async def close(apis: Apis) -> None:
    await apis.registration.client.aclose()
