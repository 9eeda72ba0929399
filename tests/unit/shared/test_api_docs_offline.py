"""Each API's /docs and /redoc work on a machine without internet: every script, stylesheet and
icon the page loads comes from the service itself, not from a CDN."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from emm_evaluation.entrypoints.api import create_app as evaluation_app
from emm_notification.entrypoints.api import create_app as notification_app
from emm_registration.entrypoints.api import create_app as registration_app

# No lifespan runs (the client is not entered), so no Kafka or MongoDB is needed to serve the pages.
SERVICES = {"registration": registration_app, "evaluation": evaluation_app, "notification": notification_app}


class AssetLinks(HTMLParser):
    """Every URL a browser fetches for the page: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append((tag, value))


def assets_of(html: str) -> list[tuple[str, str]]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_service_itself(service, page):
    client = TestClient(SERVICES[service]())
    response = client.get(page)
    assert response.status_code == 200
    assets = assets_of(response.text)
    assert any(tag == "script" for tag, _ in assets), response.text
    for tag, url in assets:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200, url
        if tag == "script":
            assert "javascript" in asset.headers["content-type"] and len(asset.content) > 100_000, url
        elif url.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css") and len(asset.content) > 10_000, url


def test_swagger_ui_finds_the_schema_and_its_oauth2_redirect_on_the_service():
    client = TestClient(registration_app())
    html = client.get("/docs").text
    assert "url: '/openapi.json'" in html
    assert client.get("/openapi.json").json()["info"]["title"] == "EMM2.0 registration"
    assert client.get("/docs/oauth2-redirect").status_code == 200
