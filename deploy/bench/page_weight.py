"""Page weight and load time of portal pages over an emulated weak connection, in Debian's Chromium.

    make bench BENCH=page_weight [ARGS='/ /signin/email --sign-in "http://127.0.0.1:8004/signin?link=..."']

Each page is opened in a fresh tab with the browser cache disabled and Chromium's network
emulation (CDP Network.emulateNetworkConditions: by default 400 kbit/s down and up, 400 ms latency),
the budget of issue 13 (at most 50 kB and usable within 3 s). For each page it prints the bytes
transferred (compressed, as on the wire: CDP Network.loadingFinished encodedDataLength summed over
every request, redirects included), the number of requests, and the times from the start of the
navigation to DOMContentLoaded, to the first contentful paint and to the load event (the page's own
Navigation and Paint Timing). A script that prints figures, not a timed test.

Participant pages need a signed-in browser: pass `--sign-in` with a link from an email (or from
`python -m emm_common.auth link participant-sign-in ...`), opened once before measuring, without
emulation, so the portal sets its cookie; or `--cookie NAME=VALUE` to set one directly.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

BUDGET_BYTES = 50_000
BUDGET_SECONDS = 3.0

NAVIGATION_TIMES = """() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {dom: navigation.domContentLoadedEventEnd, load: navigation.loadEventEnd,
          paint: paint ? paint.startTime : null};
}"""


def chromium_path() -> str | None:
    """Debian's Chromium (deploy/local/bootstrap.sh installs it); EMM_CHROMIUM overrides."""
    path = os.environ.get("EMM_CHROMIUM") or shutil.which("chromium")
    return path if path and os.access(path, os.X_OK) else None


def launch_chromium(playwright):
    """Headless Debian Chromium driven by Playwright (never Playwright's own browser download).
    As root Chromium refuses to start its sandbox, so it runs without one there."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=["--no-sandbox"] if os.geteuid() == 0 else [])


@dataclass
class Transfer:
    """What one page view moved over the network, counted from Chromium's own network events."""

    bytes: int = 0
    requests: int = 0
    urls: list[str] = field(default_factory=list)


class TransferLog:
    """Listens to a page's DevTools network events and tallies each page view: a new tally
    starts whenever the main frame starts loading a document."""

    def __init__(self, page, cache: bool = True) -> None:
        self.views: list[Transfer] = [Transfer()]
        self.cdp = page.context.new_cdp_session(page)
        # A page target's main frame has the target's id (Playwright does not expose CDP frame ids).
        self._main_frame = self.cdp.send("Target.getTargetInfo")["targetInfo"]["targetId"]
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.send("Network.enable")
        if not cache:
            self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    @property
    def current(self) -> Transfer:
        return self.views[-1]

    def emulate(self, down_kbps: float, up_kbps: float, latency_ms: float) -> None:
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": latency_ms,
            "downloadThroughput": down_kbps * 1000 / 8, "uploadThroughput": up_kbps * 1000 / 8})

    def _request(self, event: dict) -> None:
        redirect = event.get("redirectResponse")
        if redirect:  # the same request id goes on; the redirect's own response was transferred too
            self.current.bytes += int(redirect.get("encodedDataLength", 0))
        elif event.get("type") == "Document" and event.get("frameId") == self._main_frame:
            self.views.append(Transfer())
        if not redirect:
            self.current.requests += 1
            self.current.urls.append(event["request"]["url"])

    def _finished(self, event: dict) -> None:
        self.current.bytes += int(event["encodedDataLength"])


@dataclass
class Measurement:
    url: str
    status: int | None
    transfer: Transfer
    dom_ms: float
    paint_ms: float | None
    load_ms: float


def measure(browser, url: str, *, cookies: list[dict], down_kbps: float, up_kbps: float,
            latency_ms: float, locale: str) -> Measurement:
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True,
                                  locale=locale, extra_http_headers={"Accept-Language": locale})
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        log = TransferLog(page, cache=False)
        log.emulate(down_kbps, up_kbps, latency_ms)
        response = page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_timeout(200)  # the last loadingFinished events arrive after the load event
        times = page.evaluate(NAVIGATION_TIMES)
        return Measurement(page.url, response.status if response else None, log.current,
                           times["dom"], times["paint"], times["load"])
    finally:
        context.close()


def signed_in_cookies(browser, link: str) -> list[dict]:
    """Follow a sign-in link once (no emulation) and keep the cookies the portal set."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(link, wait_until="load")
        return context.cookies()
    finally:
        context.close()


def shown(path: str) -> str:
    """A path for the table, with tokens (long segments) cut short."""
    return "/".join(part if len(part) <= 24 else part[:10] + "…" for part in path.split("/"))


def cookie(value: str, base: str) -> dict:
    name, _, content = value.partition("=")
    return {"name": name, "value": content, "url": base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", default=["/", "/signin/email"],
                        help="portal paths or full URLs (default: / /signin/email)")
    parser.add_argument("--base", default=os.environ.get("EMM_PUBLIC_BASE_URL", "http://127.0.0.1:8004"))
    parser.add_argument("--sign-in", help="a sign-in link (/signin?link=...) followed before measuring")
    parser.add_argument("--cookie", action="append", default=[], help="NAME=VALUE set for the portal")
    parser.add_argument("--down-kbps", type=float, default=400)
    parser.add_argument("--up-kbps", type=float, default=400)
    parser.add_argument("--latency-ms", type=float, default=400)
    parser.add_argument("--locale", default="fr")
    parser.add_argument("--runs", type=int, default=3, help="loads per page; the median is printed")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from deploy.bench.measure import machine, markdown_table

    if not chromium_path():
        raise SystemExit("Debian's chromium is missing: run deploy/local/bootstrap.sh (it installs it)")
    base = args.base.rstrip("/") + "/"
    rows = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        print(f"Chromium {browser.version}; {machine()}")
        print(f"emulated link: {args.down_kbps:g} kbit/s down, {args.up_kbps:g} kbit/s up, "
              f"{args.latency_ms:g} ms latency; cache disabled; median of {args.runs} loads\n")
        cookies = [cookie(value, base) for value in args.cookie]
        if args.sign_in:
            cookies += signed_in_cookies(browser, urljoin(base, args.sign_in))
        for path in args.pages:
            runs = [measure(browser, urljoin(base, path.lstrip("/")), cookies=cookies, down_kbps=args.down_kbps,
                            up_kbps=args.up_kbps, latency_ms=args.latency_ms, locale=args.locale)
                    for _ in range(args.runs)]
            load = statistics.median(run.load_ms for run in runs)
            last = runs[-1]
            paints = [run.paint_ms for run in runs if run.paint_ms is not None]
            within = last.transfer.bytes <= BUDGET_BYTES and load / 1000 <= BUDGET_SECONDS
            rows.append((shown(path), shown(urlparse(last.url).path), str(last.status), f"{last.transfer.bytes:,}",
                         str(last.transfer.requests), f"{statistics.median(run.dom_ms for run in runs):,.0f}",
                         f"{statistics.median(paints):,.0f}" if paints else "-", f"{load:,.0f}",
                         "yes" if within else "NO"))
        browser.close()
    print(markdown_table(("page", "ended at", "status", "bytes", "requests", "DOMContentLoaded ms",
                          "first paint ms", "load ms", f"≤ {BUDGET_BYTES // 1000} kB and ≤ {BUDGET_SECONDS:g} s"),
                         rows))


if __name__ == "__main__":
    main()
