"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (headless), a French
phone, the same phone with JavaScript off, and a tour that screenshots, audits (axe-core) and
weighs every page. The screenshots folder and each page's weight are printed at the end of the run.

Playwright's sync API runs its own event loop, so these tests are plain (not async) functions.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from deploy.bench.page_weight import chromium_path, launch_chromium
from tests.browser.harness import AXE, CACHE, DESKTOP, FRENCH, PHONE, Screenshots, Tour

MISSING = ("Debian's chromium is not installed (deploy/local/bootstrap.sh installs it with apt-get)"
           if not chromium_path() else
           f"axe-core is not in {AXE.parent} (deploy/local/bootstrap.sh installs it from npm)"
           if not AXE.exists() else None)

_screenshots: Screenshots | None = None
_tours: list[Tour] = []


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Screenshots:
    """The run's screenshots folder: $EMM_CACHE_DIR/screenshots/<run> under make, else pytest's temp."""
    global _screenshots
    if _screenshots is None:
        run = time.strftime("%Y%m%d-%H%M%S")
        root = CACHE / "screenshots" if "EMM_CACHE_DIR" in os.environ else tmp_path_factory.getbasetemp() / "screenshots"
        _screenshots = Screenshots(root / run)
    return _screenshots


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (not the whole session: the rest of the suite is async
    and runs its own event loops, which Playwright's sync API must not overlap)."""
    if MISSING:
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (each its own cookies) closed after the test: new_context(**PHONE, ...)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_context):
    """A 360 × 640 phone whose browser speaks French (fr-FR, Accept-Language: fr)."""
    return new_context(**PHONE, **FRENCH)


@pytest.fixture
def phone_without_script(new_context):
    """The same French phone with JavaScript disabled."""
    return new_context(**PHONE, **FRENCH, java_script_enabled=False)


@pytest.fixture
def desktop(new_context):
    """An office computer's browser (1280 × 800), for staff pages."""
    return new_context(**DESKTOP)


@pytest.fixture
def tour(request, new_context, screenshots) -> Tour:
    """Screenshots, axe-core and weights for every page the test checks (`tour.check(page, name)`)."""
    auditor = new_context().new_page()
    walk = Tour(request.node.name, screenshots, auditor)
    _tours.append(walk)
    return walk


def pytest_terminal_summary(terminalreporter):
    views = [view for walk in _tours for view in walk.views]
    if views:
        terminalreporter.section("browser: bytes transferred per page view (cache off)")
        for view in views:
            terminalreporter.write_line(f"{view.transfer.bytes:>9,} B {view.transfer.requests:>3} requests  "
                                        f"{view.test} {view.name}  {view.url}")
    if _screenshots and _screenshots.taken:
        terminalreporter.write_line(f"browser: {_screenshots.taken} screenshots in {_screenshots.folder}")
