"""The portal's web app (run: uvicorn emm_portal.entrypoints.app:create_app --factory --no-access-log).

Every module of `emm_portal.entrypoints.pages` with a `router` is included, so each area of the
site (participant, organizer, facilitator) lives in its own module.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from emm_common import logs, metrics, published_schemas
from emm_portal.adapters import apis as api_adapter
from emm_portal.adapters.session_cookie import CookieCodec, cookie_secret
from emm_portal.adapters.translations import load_translations
from emm_portal.config import Settings
from emm_portal.domain import outcomes
from emm_portal.entrypoints import pages as page_modules
from emm_portal.entrypoints.rendering import STATIC, Pages
from emm_portal.entrypoints.security import (AccessLog, CsrfRefused, SecurityHeaders, SessionCookie, check_csrf,
                                             cookie_name, visitor_of)

log = logging.getLogger(__name__)
LONG_CACHE = "public, max-age=31536000, immutable"


class CachedStatic(StaticFiles):
    """Static files under versioned URLs (`?v=<hash>`, see rendering.static): cached for a year."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = LONG_CACHE
        return response


class ErrorPage:
    """ASGI middleware inside the security headers: an unexpected error becomes the 500 page in
    the person's language (with the same headers as every page), and is logged."""

    def __init__(self, app: Any, pages: Pages) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = {}

        async def noting_start(message: dict) -> None:
            started["yes"] = started.get("yes") or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except Exception:
            log.exception("unexpected error on %s", getattr(scope.get("route"), "path", "(no route)"))
            if started:
                raise
            response = self.pages.render(Request(scope), "errors/500.html", status=500)
            await response(scope, receive, send)


def include_pages(app: FastAPI) -> None:
    for module in sorted(pkgutil.iter_modules(page_modules.__path__), key=lambda m: m.name):
        router = getattr(importlib.import_module(f"{page_modules.__name__}.{module.name}"), "router", None)
        if router is not None:
            app.include_router(router)


def add_error_pages(app: FastAPI) -> None:
    def page(request: Request) -> Pages:
        return request.app.state.pages

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        template = "errors/404.html" if exc.status_code in (404, 405) else "errors/500.html"
        return page(request).render(request, template, status=exc.status_code)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused):
        return page(request).render(request, "errors/expired_form.html", status=403)

    @app.exception_handler(outcomes.NotSignedIn)
    async def not_signed_in(request: Request, exc: outcomes.NotSignedIn):
        visitor = visitor_of(request)
        if visitor.signed_in and exc.service != "portal":  # the API refused the token: it expired
            request.state.visitor = visitor.signed_out()
        return page(request).render(request, "errors/sign_in_needed.html", status=401, expired=visitor.signed_in)

    @app.exception_handler(outcomes.NotAllowed)
    async def not_allowed(request: Request, exc: outcomes.NotAllowed):
        return page(request).render(request, "errors/403.html", status=403)

    @app.exception_handler(outcomes.NotFound)
    async def not_found(request: Request, exc: outcomes.NotFound):
        return page(request).render(request, "errors/404.html", status=404)

    @app.exception_handler(outcomes.Unavailable)
    async def unavailable(request: Request, exc: outcomes.Unavailable):
        response = page(request).render(request, "errors/503.html", status=503, service=exc.service)
        response.headers["retry-after"] = "30"
        return response

    @app.exception_handler(outcomes.ApiOutcome)
    async def refused(request: Request, exc: outcomes.ApiOutcome):
        return page(request).render(request, "errors/409.html", status=409)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.setup(settings.service_name, "web")  # JSON lines, like every process (emm_common.logs)
    vendor_htmx = settings.vendor_dir / "htmx.min.js"
    htmx = vendor_htmx.read_bytes() if vendor_htmx.is_file() else None
    if htmx is None:
        log.warning("no %s: pages work without htmx, as they must", vendor_htmx)
    pages = Pages(load_translations(), htmx=htmx is not None)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.apis = api_adapter.connect(settings.registration_url, settings.evaluation_url,
                                             settings.notification_url, settings.api_timeout_seconds)
        yield
        await api_adapter.close(app.state.apis)

    app = FastAPI(title="EMM2.0 portal", lifespan=lifespan, dependencies=[Depends(check_csrf)],
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.pages = settings, pages
    metrics.record_build_info("portal")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request):
        # Ready while the APIs are down too: the portal then says so on its pages, which helps a
        # person more than a load balancer's error; the checks tell an operator which is down.
        apis = request.app.state.apis
        checks = {api.service: await api.reachable()
                  for api in (apis.registration, apis.evaluation, apis.notification)}
        for name, state in checks.items():
            metrics.DEPENDENCY_UP.labels(name).set(1 if state == "ok" else 0)
        degraded = any(state != "ok" for state in checks.values())
        return JSONResponse({"status": "degraded" if degraded else "ready", "checks": checks})

    @app.get("/static/htmx.min.js", include_in_schema=False)
    async def htmx_script():
        if htmx is None:
            raise HTTPException(404)
        return Response(htmx, media_type="text/javascript", headers={"cache-control": LONG_CACHE})

    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    # The event contract: every event's dataschema URL names a path on this, the public, host.
    app.include_router(published_schemas.router())
    include_pages(app)
    add_error_pages(app)
    Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(app, endpoint="/metrics",
                                                                          include_in_schema=False)

    # Added innermost first; a request meets them in the reverse order: the log, compression,
    # security headers, the cookie (the visitor), then the 500 page (which needs the visitor).
    app.add_middleware(ErrorPage, pages=pages)
    app.add_middleware(SessionCookie, codec=CookieCodec(cookie_secret(
        settings.cookie_secret.get_secret_value() if settings.cookie_secret else None, settings.cookie_key_file)),
        name=cookie_name(settings.secure_cookies), secure=settings.secure_cookies)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(AccessLog)
    return app

