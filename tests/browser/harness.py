"""What the browser tests share: accessibility checks with axe-core, screenshots, page weights.

`Tour.check(page, name)` is called on every page a test visits: it screenshots the page, runs axe
on it (failing on any serious or critical violation) and records the bytes its view transferred.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from deploy.bench.page_weight import Transfer, TransferLog

CACHE = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot"))
AXE = CACHE / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
FRENCH = {"locale": "fr-FR", "extra_http_headers": {"Accept-Language": "fr"}}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

AXE_RUN = "axe.run(document, {resultTypes: ['violations']}).then(result => result.violations)"


def blocking_violations(violations: list[dict]) -> list[dict]:
    return [violation for violation in violations if violation.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """One line per violation, then the first elements at fault, for the failure message."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['impact']} {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page, auditor) -> None:
    """Run axe-core on what `page` shows and fail on any serious or critical violation.

    axe runs in `auditor`, a page with JavaScript on, given `page`'s DOM at `page`'s address (so
    its stylesheets load as they did): `page` itself may have JavaScript disabled, and the portal's
    Content-Security-Policy forbids the inline script that injecting axe into it would need."""
    html, url = page.content(), page.url
    auditor.set_viewport_size(page.viewport_size)

    def serve(route):
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    auditor.route(url, serve)
    try:
        auditor.goto(url, wait_until="load")
    finally:
        auditor.unroute(url, serve)
    auditor.add_script_tag(path=str(AXE))
    found = blocking_violations(auditor.evaluate(AXE_RUN))
    assert not found, f"axe-core: {len(found)} serious or critical violation(s) on {url}:\n{describe(found)}"


class Screenshots:
    """Numbered full-page screenshots in one folder per test run (printed at the end of the run)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken = 0

    def take(self, page, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken += 1
        path = self.folder / f"{self.taken:03d}-{re.sub(r'[^A-Za-z0-9_.]+', '-', name).strip('-')}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@dataclass
class PageView:
    test: str
    name: str
    url: str
    transfer: Transfer


@dataclass
class Tour:
    """One test's walk through the portal: every page it checks is screenshotted, audited by
    axe and weighed. Pages are watched from `watch` on, with the browser cache off, so each
    view's bytes include all its assets, as a first visit over a weak connection would."""

    test: str
    screenshots: Screenshots
    auditor: object
    views: list[PageView] = field(default_factory=list)
    _logs: dict[int, TransferLog] = field(default_factory=dict)
    _pages: list = field(default_factory=list)

    def watch(self, page):
        self._logs[id(page)] = TransferLog(page, cache=False)
        self._pages.append(page)
        return page

    def failed(self) -> None:
        """Screenshot every watched page as it is when the test fails, to see where it stopped."""
        for page in self._pages:
            if not page.is_closed():
                self.screenshots.take(page, f"{self.test}-FAILED-at-{urlparse(page.url).path}")

    def check(self, page, name: str) -> PageView:
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # the last network events of the view arrive just after its load
        self.screenshots.take(page, f"{self.test}-{name}")
        assert_accessible(page, self.auditor)
        log = self._logs.get(id(page))
        view = PageView(self.test, name, page.url, log.current if log else Transfer())
        self.views.append(view)
        return view


SIGN_IN_LINK = re.compile(r"https?://[^\s\"'<>]+/signin\?link=[^\s\"'<>]+")


class Mailbox:
    """The SMTP capture's mail of one address, read through its HTTP reader (deploy/local/smtp_capture.py).
    Each message is handed out once, so a test can wait for "the next email with a sign-in link"."""

    def __init__(self, reader: str, address: str) -> None:
        self.reader, self.address = reader, address
        self.seen: set[str] = set()

    def sign_in_link(self, next_path: str | None = None, timeout: float = 90) -> str:
        """The sign-in link of the next unseen email that has one (whose `next` is `next_path`, if given)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for summary in httpx.get(f"{self.reader}/messages", params={"to": self.address}, timeout=10).json():
                if summary["id"] in self.seen:
                    continue
                text = httpx.get(f"{self.reader}{summary['url']}", timeout=10).json()["text"] or ""
                for link in SIGN_IN_LINK.findall(text):
                    if next_path is None or parse_qs(urlparse(link).query).get("next") == [next_path]:
                        self.seen.add(summary["id"])
                        return link
            time.sleep(0.5)
        raise AssertionError(f"no email to {self.address} with a sign-in link (next={next_path!r}) within {timeout}s")
