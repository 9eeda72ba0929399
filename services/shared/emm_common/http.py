"""What every service's FastAPI app shares: lifecycle of its connections, /healthz, /readyz,
/metrics, bearer-token verification (the keys it accepts published at /.well-known/jwks.json,
`POST /sign-out` revoking the caller's token), errors that name the field at fault, the
`EMM-Event-Ids` header listing the events a successful request committed, and /docs and /redoc
served with their own copy of Swagger UI and ReDoc."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, Awaitable, Callable

from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_fastapi_instrumentator import Instrumentator
from pymongo.errors import PyMongoError

from emm_common import live_database, logs, metrics, mongo, outbox
from emm_common.access_log import AccessLog
from emm_common.errors import DomainError
from emm_common.auth import TokenIssuer, TokenVerifier, ensure_key_pair, jwks
from emm_common.authorization import ALL, ANY, OWN_RECORD, Allow, Caller
from emm_common.rate_limits import RateLimited, RateLimiter
from emm_common.revocations import Revocations
from emm_common.openapi import document_contract
from emm_common.store.mongo import MongoDocumentStore
from emm_common.outbox import OutboxRelay, SweepTurns
from emm_common.publisher import EventPublisher
from emm_common.settings import ServiceSettings
from emm_common.startup import retry_until_reachable
from emm_common.topics import all_topics, ensure_topics, topic_name

log = logging.getLogger(__name__)


class Runtime:
    """The connections of one API process, shared by its routes through `app.state.runtime`."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.database = mongo.database_for(settings)
        self.publisher = EventPublisher(settings.kafka_bootstrap_servers, settings.topic_prefix,
                                        client_id=f"{settings.service_name}-api")
        self.kafka_connected = False
        self.relay: OutboxRelay | None = None
        self._connect_task: asyncio.Task | None = None
        self._health_task: asyncio.Task | None = None

    async def open_live_database(self) -> None:
        """Use the database the live-database pointer names (emm_common.live_database)."""
        self.database = await live_database.resolve(self.settings, self.database)

    def nudge(self, collection_name: str, doc_id: Any, outbox: dict[str, Any]) -> None:
        """The stores' `on_commit`: this process's relay publishes a document's new events now
        (once it exists; until then, and while Kafka is away, its sweep does after the grace)."""
        if self.relay is not None:
            self.relay.nudge(collection_name, doc_id, outbox)

    def start(self, outbox_collections: list[Any]) -> None:
        self.relay = OutboxRelay(self.publisher, outbox_collections, self.settings.outbox_poll_seconds,
                                 self.settings.outbox_sweep_seconds, grace_seconds=self.settings.outbox_grace_seconds,
                                 turns=SweepTurns(self.database))
        self._connect_task = asyncio.create_task(self._connect_kafka(), name="connect-kafka")
        self._health_task = asyncio.create_task(metrics.keep_checking(self.readiness), name="dependency-checks")

    async def _connect_kafka(self) -> None:
        # The API serves (and stores facts durably) while Kafka is away; the relay publishes later.
        settings = self.settings
        await retry_until_reachable("Kafka", settings.kafka_bootstrap_servers, lambda: ensure_topics(
            settings.kafka_bootstrap_servers, {topic_name(t, settings.topic_prefix) for t in all_topics()},
            settings.topic_partitions))
        await retry_until_reachable("Kafka", settings.kafka_bootstrap_servers, self.publisher.start)
        self.kafka_connected = True
        self.relay.start()

    async def stop(self) -> None:
        for task in (self._connect_task, self._health_task):
            if task:
                task.cancel()
        if self.relay:
            await self.relay.stop()
        try:
            await self.publisher.stop()
        except Exception as exc:  # stopping a producer that never connected
            log.debug("producer stop: %r", exc)
        await asyncio.sleep(0)
        closing = mongo.close(self.database)
        if closing is not None:
            await closing

    async def readiness(self) -> dict[str, str]:
        """Each dependency: 'ok' or the reason it is not."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(mongo.ping(self.database), 3)
            checks["mongodb"] = "ok"
        except Exception as exc:
            checks["mongodb"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
        if not self.kafka_connected:
            checks["kafka"] = "not connected yet"
        else:
            try:
                await asyncio.wait_for(self.publisher.ping(), 3)
                checks["kafka"] = "ok"
            except Exception as exc:
                checks["kafka"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
        for name, state in checks.items():
            metrics.DEPENDENCY_UP.labels(name).set(1 if state == "ok" else 0)
        return checks


def problem(status: int, loc: list[str | int], message: str, kind: str) -> JSONResponse:
    """An error body shaped like FastAPI's own 422: `loc` names the field at fault."""
    return JSONResponse(status_code=status, content={"detail": [{"loc": loc, "msg": message, "type": kind}]})


def error_location(request: Request, exc: DomainError) -> list[str | int]:
    """Where the field a DomainError names is in the request, as FastAPI's own 422 says it:
    ["path", name] for a path parameter of the route, ["query", name] for a query parameter it
    declares and was given, else ["body", *item, name] (item: the list and index `DomainError.at`
    recorded), ["header", "authorization"] for the token itself. The domain only knows field names;
    this is the one place that knows the request."""
    if exc.field in request.path_params:
        return ["path", exc.field]
    if exc.field == "authorization":  # the token itself: its role or kind
        return ["header", "authorization"]
    route = request.scope.get("route")
    declared = {param.alias for param in route.dependant.query_params} if hasattr(route, "dependant") else set()
    if not exc.within and exc.field in declared and exc.field in request.query_params:
        return ["query", exc.field]
    return ["body", *exc.within, exc.field]


EVENT_IDS_HEADER = "EMM-Event-Ids"


class AcknowledgeEvents:
    """ASGI middleware: a 2xx response carries the ids of the events its request committed
    (comma-separated, in commit order) in the `EMM-Event-Ids` header. Each id is durable in an
    outbox and will appear on its topic; an idempotent repeat commits nothing and has no header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with outbox.acknowledging() as event_ids:
            async def send_with_event_ids(message: dict) -> None:
                if message["type"] == "http.response.start" and event_ids and 200 <= message["status"] < 300:
                    header = (EVENT_IDS_HEADER.lower().encode(), ",".join(event_ids).encode())
                    message = {**message, "headers": [*message.get("headers", []), header]}
                await send(message)

            await self.app(scope, receive, send_with_event_ids)


def load_keys(settings: ServiceSettings) -> tuple[TokenVerifier, TokenIssuer | None]:
    issuer = None
    if settings.jwt_private_key_file:
        ensure_key_pair(settings.jwt_private_key_file, settings.jwt_public_key_file)
        issuer = TokenIssuer(settings.jwt_private_key_file.read_bytes())
    return TokenVerifier.from_file(settings.jwt_public_key_file), issuer


SignedIn = Annotated[Caller, Depends(Allow(participant=OWN_RECORD, facilitator=ANY, organizer=ANY, regional=ALL))]
Public = Annotated[None, Depends(Allow(public=True))]


def methods_of(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document gives the path (a 405's `Allow` header): those of its
    templates that match it with the fewest parameters (`/questionnaires/default`, not
    `/questionnaires/{questionnaire_id}`)."""
    matching = [(template.count("{"), {method.upper() for method in operations})
                for template, operations in app.openapi()["paths"].items() if compile_path(template)[0].match(path)]
    fewest = min((parameters for parameters, _ in matching), default=0)
    return sorted(set().union(*(methods for parameters, methods in matching if parameters == fewest)))


def create_service_app(settings: ServiceSettings, *, title: str, description: str, version: str = "1.0.0",
                       outbox_collections: Callable[[Any], list[Any]] = lambda db: [],
                       on_start: Callable[[Runtime], Awaitable[None]] | None = None) -> FastAPI:
    """A FastAPI app with the shared lifecycle and operational endpoints. Add the service's routers to it.

    `outbox_collections(database)` names the collections whose outboxes this process relays.
    A DomainError becomes its `http_status` with a body that names the field at fault.
    /docs and /redoc load their scripts, styles and icon from the service (under
    /static-offline-docs), so they work offline. Logs are JSON lines (emm_common.logs).
    """
    logs.setup(settings.service_name, "api")
    metrics.record_build_info(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = Runtime(settings)
        app.state.runtime = runtime
        if settings.follow_live_database:  # which database is live is known only once MongoDB answers
            await retry_until_reachable("MongoDB", settings.mongodb_uri, runtime.open_live_database)
        app.state.token_verifier, app.state.token_issuer = load_keys(settings)
        app.state.revocations = Revocations(MongoDocumentStore(runtime.database))
        app.state.rate_limiter = RateLimiter(MongoDocumentStore(runtime.database))
        app.state.trusted_proxies = frozenset(settings.trusted_proxies)
        runtime.start(outbox_collections(runtime.database))
        if on_start:
            await on_start(runtime)
        yield
        await runtime.stop()

    # FastAPI's own pages load Swagger UI, ReDoc and Google Fonts from CDNs: blank without internet.
    app = FastAPIOffline(title=title, description=description, version=version, lifespan=lifespan)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers (never checks Kafka or MongoDB)")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: Kafka and MongoDB reachable, else 503 with the reason",
             response_model=dict[str, str | dict[str, str]],
             responses={503: {"description": "A dependency is unreachable", "model": dict[str, str | dict[str, str]]}})
    async def readyz(request: Request):
        checks = await request.app.state.runtime.readiness()
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(status_code=200 if ready else 503,
                            content={"status": "ready" if ready else "not ready", "checks": checks})

    @app.get("/.well-known/jwks.json", tags=["signing in"], response_model=dict[str, list[dict[str, str]]],
             summary="The public keys this service accepts tokens of (JWKS; two during a key rotation)")
    async def key_set(request: Request, _: Public):
        return jwks(request.app.state.token_verifier.keys.values())

    @app.post("/sign-out", status_code=204, tags=["signing in"], response_class=Response,
              summary="Sign the caller's token out: this service refuses it from now on (the portal calls "
                      "every API when a person signs out)")
    async def sign_out(request: Request, who: SignedIn):
        await request.app.state.revocations.revoke(who.principal.token_id or "", who.subject,
                                                   who.principal.expires_at, datetime.now(timezone.utc))
        return Response(status_code=204)

    @app.exception_handler(PyMongoError)
    async def database_unavailable(request: Request, exc: PyMongoError):
        if not mongo.transient(exc):  # ours to fix: a 500, as any other bug
            raise exc
        return JSONResponse(status_code=503, headers={"Retry-After": "5"},
                            content={"detail": "database unavailable; the request may not have been stored: repeat it "
                                               "(every command is safe to repeat)"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_refusal(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400:  # FastAPI's "error parsing the body": not UTF-8, say
            return problem(400, ["body"], "the body is not JSON in UTF-8", "InvalidBody")
        if exc.status_code == 405:  # Starlette names the methods of the first route of the path only
            response = await http_exception_handler(request, exc)
            response.headers["Allow"] = ", ".join(methods_of(request.app, request.url.path))
            return response
        return await http_exception_handler(request, exc)

    @app.exception_handler(RateLimited)
    async def too_many(request: Request, exc: RateLimited):
        response = problem(429, [exc.limit.per.split(":")[0]], f"too many requests: {exc}; try again in "
                                                               f"{exc.retry_after} s", "RateLimited")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError):
        return problem(exc.http_status, error_location(request, exc), exc.message, type(exc).__name__)

    document_contract(app)
    app.add_middleware(AcknowledgeEvents)
    app.add_middleware(AccessLog)  # outermost: the request's correlation covers everything it does
    Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False)
    return app
