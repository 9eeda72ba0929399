"""A date an API takes is written YYYY-MM-DD and nothing else: pydantic's own `date` reads `0` as
the Unix epoch, so `period_to=0` used to be accepted as 1 January 1970. A refusal is a 422 naming
the parameter, in the project's error shape."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from emm_common.http import create_service_app
from emm_common.iso_dates import IsoDate
from emm_common.settings import ServiceSettings
from emm_evaluation.entrypoints import api as evaluation_api
from emm_notification.entrypoints import api as notification_api
from emm_registration.entrypoints import api as registration_api

router = APIRouter()


@router.get("/reports")
async def reports(period_from: IsoDate | None = None, period_to: IsoDate | None = None):
    return {"period_from": period_from, "period_to": period_to}


def client() -> TestClient:
    app = create_service_app(ServiceSettings(), title="sample", description="test")
    app.include_router(router)
    return TestClient(app)


def test_an_iso_date_is_accepted():
    answer = client().get("/reports", params={"period_from": "2026-05-17", "period_to": "2026-05-20"})
    assert answer.status_code == 200
    assert answer.json() == {"period_from": "2026-05-17", "period_to": "2026-05-20"}


@pytest.mark.parametrize("written", ["0", "1747440000", "2026-5-17", "17/05/2026", "2026-05-17T00:00:00", "2026-02-30"])
def test_anything_else_is_a_422_naming_the_parameter(written):
    answer = client().get("/reports", params={"period_to": written})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", "period_to"]
    assert "YYYY-MM-DD" in error["msg"] or "date" in error["msg"]


def routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from routes_of(included) if included is not None else [route]


def routes_of(router: Any) -> Iterator[Any]:
    yield from routes(router.routes)


def date_parameters(app: Any) -> Iterator[tuple[str, Any]]:
    """Every query and path parameter of the app that takes a date."""
    for route in routes(app.routes):
        dependant = getattr(route, "dependant", None)
        stack = [dependant] if dependant else []
        while stack:
            current = stack.pop()
            stack.extend(current.dependencies)
            for field in [*current.query_params, *current.path_params]:
                value, errors = field.validate("2026-05-17", {}, loc=("query", field.alias))
                if not errors and isinstance(value, date):
                    yield f"{route.path} {field.alias}", field


@pytest.mark.parametrize("create_app", [registration_api.create_app, evaluation_api.create_app,
                                        notification_api.create_app])
def test_every_date_parameter_of_every_api_refuses_a_unix_timestamp(create_app):
    found = list(date_parameters(create_app()))
    accepting = [where for where, field in found if not field.validate("0", {}, loc=("query", field.alias))[1]]
    assert accepting == []
    if create_app is evaluation_api.create_app:
        assert {"/reports period_to", "/trainers certified_from"} <= {where for where, _ in found}
