"""The browser harness itself, against a tiny local web server: axe-core finds what it must find
(JavaScript on or off, under a strict Content-Security-Policy), bytes are counted as transferred
(compressed), and the benchmark's network emulation really slows the page down."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.bench.page_weight import measure
from tests.browser.harness import assert_accessible

pytestmark = pytest.mark.browser

STYLE = ("body { font: 18px/1.5 sans-serif; color: #111; background: #fff; }\n"
         + "".join(f".c{i} {{ margin: {i}px; }}\n" for i in range(2000))).encode()
GOOD = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mes formations</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/style.css">
</head><body><main><h1>Mes formations</h1><form method="post" action="/"><label for="e">Adresse e-mail</label>
<input id="e" name="email" type="email"><button>Envoyer</button></form></main></body></html>""".encode()
BAD = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mauvaise</title></head><body><main>
<h1>Mauvaise page</h1><img src="/style.css"><form><input name="email"></form></main></body></html>""".encode()
CSP = "default-src 'self'; script-src 'self'; style-src 'self'"


class Site(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body, kind = {"/good": (GOOD, "text/html"), "/bad": (BAD, "text/html"),
                      "/style.css": (STYLE, "text/css")}.get(self.path, (b"", "text/plain"))
        compressed = gzip.compress(body)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(compressed)))
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(compressed)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_axe_passes_a_labelled_page_and_names_the_faults_of_a_bad_one(site, phone, tour):
    page = tour.watch(phone.new_page())
    page.goto(f"{site}/good")
    tour.check(page, "good")
    page.goto(f"{site}/bad")
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, tour.auditor)
    assert "critical image-alt" in str(failure.value) and "label" in str(failure.value)


def test_axe_runs_on_a_page_shown_without_javascript(site, phone_without_script, tour):
    page = phone_without_script.new_page()
    page.goto(f"{site}/bad")
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page, tour.auditor)


def test_each_view_counts_the_compressed_bytes_of_the_page_and_its_stylesheet(site, phone, tour):
    page = tour.watch(phone.new_page())
    page.goto(f"{site}/good")
    view = tour.check(page, "weighed")
    compressed = len(gzip.compress(GOOD)) + len(gzip.compress(STYLE))
    assert view.transfer.requests >= 2 and f"{site}/style.css" in view.transfer.urls
    assert compressed < view.transfer.bytes < compressed + 2_000 < len(STYLE)  # the headers, no more


def test_the_benchmark_emulation_makes_each_request_wait_for_its_round_trip(site, browser):
    figures = measure(browser, f"{site}/good", cookies=[], down_kbps=400, up_kbps=400, latency_ms=400, locale="fr")
    assert figures.status == 200 and figures.transfer.requests >= 2
    assert figures.load_ms >= 800  # the document, then its stylesheet: one 400 ms round trip each
