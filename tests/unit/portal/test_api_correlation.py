"""The portal passes the page request's traceparent on to the APIs it calls, so one query finds
the page, the API and the events it published."""

import httpx

from emm_common import logs
from emm_portal.adapters.apis import Api

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_an_api_call_carries_the_pages_traceparent():
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:  # records what the API would receive
        seen.append(request.headers.get("traceparent"))
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        api = Api("registration", client, "http://registration")
        with logs.correlated(TRACE):
            await api.get("/sessions")
        await api.get("/sessions")
    assert seen[0] == TRACE and seen[1] is None
