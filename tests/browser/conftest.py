"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (headless), a French
phone, the same phone with JavaScript off, and a tour that screenshots, audits (axe-core) and
weighs every page. The screenshots folder and each page's weight are printed at the end of the run.

Playwright's sync API runs its own event loop, so these tests are plain (not async) functions.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from pymongo import MongoClient

from deploy.bench.page_weight import chromium_path, launch_chromium, shown
from emm_common.auth import TokenIssuer, ensure_key_pair
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.browser.harness import AXE, CACHE, DESKTOP, FRENCH, PHONE, Screenshots, Tour
from tests.conftest import KAFKA, MONGODB_URI, SMTP_PORT, delete_topics
from tests.processes import ServiceProcess, portal

def missing_tool() -> str | None:
    """Why the browser tests cannot run on this machine, or None (bootstrap installs all three)."""
    if not chromium_path():
        return "Debian's chromium is not installed (deploy/local/bootstrap.sh installs it with apt-get)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (deploy/local/bootstrap.sh installs requirements.lock)"
    if not AXE.exists():
        return f"axe-core is not in {AXE.parent} (deploy/local/bootstrap.sh installs it from npm)"
    return None


MISSING = missing_tool()

_screenshots: Screenshots | None = None
_tours: list[Tour] = []


@pytest.fixture(scope="session")
def screenshots() -> Screenshots:
    """This run's screenshots folder, $EMM_CACHE_DIR/screenshots/<date-time>-<pid>; the five newest
    runs are kept (pytest's own temporary folders are shared with every other run and rotate fast)."""
    global _screenshots
    if _screenshots is None:
        root = CACHE / "screenshots"
        for old in sorted(root.glob("*"))[:-4] if root.exists() else []:
            shutil.rmtree(old, ignore_errors=True)
        _screenshots = Screenshots(root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
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
def tour(request, new_context, screenshots):
    """Screenshots, axe-core and weights for every page the test checks (`tour.check(page, name)`)."""
    auditor = new_context().new_page()
    walk = Tour(request.node.name, screenshots, auditor)
    _tours.append(walk)
    yield walk
    if getattr(request.node, "failed_call", False):
        walk.failed()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True
    return report


def pytest_terminal_summary(terminalreporter):
    views = [view for walk in _tours for view in walk.views]
    if views:
        terminalreporter.section("browser: bytes transferred per page view (cache off)")
        for view in views:
            terminalreporter.write_line(f"{view.transfer.bytes:>9,} B {view.transfer.requests:>3} requests  "
                                        f"{view.test} {view.name}  {shown(urlparse(view.url).path)}")
    if _screenshots and _screenshots.taken:
        terminalreporter.write_line(f"browser: {_screenshots.taken} screenshots in {_screenshots.folder}")


@dataclass
class Portal:
    """The three services (APIs and workers) and the portal as real processes on this package's own
    topics and databases, sending mail to the SMTP capture."""

    url: str
    registration: ServiceProcess
    evaluation: ServiceProcess
    notification: ServiceProcess
    issuer: TokenIssuer
    unique: str

    def address(self, name: str) -> str:
        """An email address of this run for a person (the capture is shared by every run)."""
        return f"{name.lower().replace(' ', '.')}.{self.unique}@example.org"


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    if MISSING:
        pytest.skip(MISSING)
    unique = uuid.uuid4().hex[:10]
    prefix, keys = f"t{unique}.", tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    asyncio.run(ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3))
    web = portal(keys)  # its address first: every email's links point at it
    shared = {"EMM_PUBLIC_BASE_URL": web.url}
    mail = {**shared, "NOTIFICATION_SMTP_PORT": str(SMTP_PORT), "NOTIFICATION_DELIVERY_POLL_SECONDS": "0.3",
            "NOTIFICATION_RETRY_BASE_SECONDS": "0.5", "NOTIFICATION_RETRY_MAX_SECONDS": "2"}
    databases = {service: f"test_{unique}_{service[:5]}" for service in ("registration", "evaluation", "notification")}
    registration = ServiceProcess("registration", "api", prefix, databases["registration"], keys, env=shared)
    evaluation = ServiceProcess("evaluation", "api", prefix, databases["evaluation"], keys, env=shared)
    notification = ServiceProcess("notification", "api", prefix, databases["notification"], keys, env=mail)
    workers = [ServiceProcess(service, "worker", prefix, databases[service], keys, env=env)
               for service, env in (("evaluation", shared), ("notification", mail))]
    web.env.update({"PORTAL_REGISTRATION_URL": registration.url, "PORTAL_EVALUATION_URL": evaluation.url,
                    "PORTAL_NOTIFICATION_URL": notification.url})
    processes = [registration, evaluation, notification, *workers, web]
    try:
        for process in processes:  # all at once: each takes seconds to import and connect
            process.start(wait=False)
        for process in processes:
            process.wait_until_answering()
        yield Portal(web.url, registration, evaluation, notification, TokenIssuer((keys / "jwt.pem").read_bytes()),
                     unique)
    finally:
        for process in processes:  # all asked to stop at once, then each waited for
            if process.process and process.process.poll() is None:
                os.killpg(process.process.pid, signal.SIGTERM)
        for process in processes:
            process.stop()
        with MongoClient(MONGODB_URI) as client:
            for database in databases.values():
                client.drop_database(database)
        asyncio.run(delete_topics(prefix))

