"""Every list endpoint pages: `limit` (50 unless asked, at most 200) and `offset`; the body stays
the list, the next page's address is in the `Link` header (and its offset in `EMM-Next-Offset`)."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from emm_common.paging import DEFAULT_LIMIT, MAX_LIMIT, NEXT_OFFSET_HEADER, Paging, next_link

ITEMS = list(range(120))


def client() -> TestClient:
    app = FastAPI()

    @app.get("/numbers")
    async def numbers(page: Paging, parity: str | None = None):
        wanted = [n for n in ITEMS if parity is None or n % 2 == (parity == "odd")]
        return page.of(page.window(wanted))

    return TestClient(app)


def test_a_list_is_bounded_by_default():
    response = client().get("/numbers")
    assert response.json() == ITEMS[:DEFAULT_LIMIT] == list(range(50))
    assert response.headers[NEXT_OFFSET_HEADER] == "50"
    assert response.headers["Link"] == '</numbers?offset=50&limit=50>; rel="next"'


def test_following_next_links_reads_every_item_once_and_keeps_the_filters():
    seen, url = [], "/numbers?parity=odd&limit=25"
    while url:
        response = client().get(url)
        seen += response.json()
        url = next_link(response.headers)
        if url:
            assert "parity=odd" in url and "limit=25" in url
    assert seen == [n for n in ITEMS if n % 2]


def test_the_last_page_has_no_next():
    response = client().get("/numbers", params={"offset": 100, "limit": 20})
    assert response.json() == ITEMS[100:120]
    assert "Link" not in response.headers and NEXT_OFFSET_HEADER not in response.headers
    assert next_link(response.headers) is None
    assert client().get("/numbers", params={"offset": 500}).json() == []


def test_a_limit_beyond_the_maximum_or_a_negative_offset_is_422_naming_it():
    too_many = client().get("/numbers", params={"limit": MAX_LIMIT + 1})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    assert client().get("/numbers", params={"limit": MAX_LIMIT}).status_code == 200
    assert client().get("/numbers", params={"limit": 0}).status_code == 422
    negative = client().get("/numbers", params={"offset": -1})
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["query", "offset"]
