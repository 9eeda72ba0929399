"""The evaluation API's date parameters take YYYY-MM-DD only: `period_to=0` used to be read as a
Unix timestamp (1 January 1970) and answered 200 with an empty report."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_a_date_parameter_that_is_not_yyyy_mm_dd_is_a_422_naming_it(client, issue):
    staff = issue("organizer")
    for path, name in (("/reports", "period_to"), ("/reports", "period_from"), ("/trainers", "certified_from"),
                       ("/trainers", "certified_to"), ("/trainers", "delivered_since")):
        for written in ("0", "20260517", "2026-5-17"):
            answer = await client.get(path, params={name: written}, headers=staff)
            assert answer.status_code == 422, (path, name, written, answer.text)
            assert answer.json()["detail"][0]["loc"] == ["query", name]
    assert (await client.get("/reports", params={"period_from": "2026-05-01", "period_to": "2026-05-31"},
                             headers=staff)).status_code == 200
