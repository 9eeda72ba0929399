"""The CSV downloads of the staff pages: each the owning API's own export, fetched as the signed-in
person (so that API decides what they may see) and passed on byte for byte."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emm_portal.adapters.apis import Api, Apis


async def api_csv(api: Api, path: str, params: Mapping[str, Any] | None = None) -> bytes:
    response = await api.call("GET", path, params=dict(params or {}), raw=True)
    return response.content


async def roster_csv(apis: Apis, session_id: str) -> bytes:
    return await api_csv(apis.registration, f"/sessions/{session_id}/roster.csv")


async def attendance_csv(apis: Apis, session_id: str) -> bytes:
    return await api_csv(apis.registration, f"/sessions/{session_id}/attendance.csv")


async def reports_csv(apis: Apis, language: str, filters: Mapping[str, Any]) -> bytes:
    return await api_csv(apis.evaluation, "/reports.csv", {"language": language, **filters})


async def trainers_csv(apis: Apis, filters: Mapping[str, Any]) -> bytes:
    return await api_csv(apis.evaluation, "/trainers.csv", filters)
