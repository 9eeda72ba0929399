"""The portal app on its own (no API answers): what every page and every form gets."""

import logging
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from emm_portal.config import Settings
from emm_portal.entrypoints import rendering
from emm_portal.entrypoints.app import create_app


@pytest.fixture
def client(tmp_path):
    settings = Settings(cookie_key_file=tmp_path / "portal-cookie.key", registration_url="http://127.0.0.1:9",
                        evaluation_url="http://127.0.0.1:9", notification_url="http://127.0.0.1:9")
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8004") as client:
        client.app_under_test = app
        yield client


def routes(routes):
    """Every route, those of included routers too (FastAPI keeps those in an _IncludedRouter)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from routes_of(included) if included is not None else [route]


def routes_of(router):
    return routes(router.routes)


def test_every_form_post_without_the_csrf_field_is_refused(client):
    posts = [route.path for route in routes(client.app_under_test.routes)
             if isinstance(route, APIRoute) and "POST" in route.methods]
    assert "/language" in posts and "/signout" in posts
    for path in posts:
        answer = client.post(re.sub(r"\{[^}]+\}", "x", path), data={"anything": "1"})
        assert answer.status_code == 403, path


def test_pages_carry_the_security_headers_and_are_not_cached(client):
    page = client.get("/", headers={"accept-encoding": "gzip"})
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-encoding"] == "gzip"
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Lax" in page.headers["set-cookie"]


def test_no_template_has_an_inline_script_style_or_event_handler():
    # The Content-Security-Policy would block them: a page would silently lose them.
    templates = Path(rendering.TEMPLATES)
    for template in templates.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<[a-zA-Z][^>]*>", text):
            assert not re.match(r"<script(?![^>]*\bsrc=)", tag), f"{template.name}: {tag}"
            assert not re.search(r"\s(style|on[a-z]+)=", tag), f"{template.name}: {tag}"
        assert "<style" not in text, template.name


def test_the_access_log_names_the_route_never_the_token_in_the_address(client, caplog):
    with caplog.at_level(logging.INFO, logger="emm_portal.access"):
        client.get("/signin", params={"link": "SECRET-LINK-TOKEN"})
        client.get("/invitations/SECRET-INVITATION")
    logged = caplog.text
    assert "GET /signin 503" in logged and "GET /invitations/{token}" in logged
    assert "SECRET" not in logged


def test_a_service_that_is_down_gets_a_page_that_says_so_in_the_person_s_language(client):
    page = client.get("/signin", params={"link": "x"}, headers={"accept-language": "pt"})
    assert page.status_code == 503 and '<html lang="pt">' in page.text and "Tentar novamente" in page.text


def test_unknown_pages_are_404_in_the_chosen_language(client):
    page = client.get("/nowhere?lang=en")
    assert page.status_code == 404 and "Page not found" in page.text
    assert "Page introuvable" in client.get("/nowhere?lang=fr").text


def test_static_files_are_cached_for_a_year_under_versioned_addresses(client):
    page = client.get("/").text
    css = re.search(r'href="(/static/portal\.css\?v=[0-9a-f]+)"', page).group(1)
    answer = client.get(css)
    assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"]
    assert "set-cookie" not in answer.headers
