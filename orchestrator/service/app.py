"""The FastAPI application: lifespan, bearer-token auth, upload cap and JSON errors.

Routes live in :mod:`.api` (JSON) and :mod:`.inbox` (HTML); this module wires
them to one :class:`Service`: a read-only connection to the store for every
read, and the runtime every batch shares, which runs on a thread and event
loop of its own (:mod:`.runtime_thread`) so that reads never wait for batches.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesbus.agents.campaign import Campaign

from ..approval import ApprovalError
from ..runner import Instrumentation, RunSettings
from ..store import Store, StoreError
from .reads import Reads, open_reads
from .runtime import NotRetryable
from .runtime_thread import RuntimeThread, runtime_thread
from .submit import SubmissionError

__all__ = ["Service", "ServiceConfig", "create_app"]

logger = logging.getLogger("salesbus.service")

TOKEN_COOKIE = "salesbus_token"


@dataclass(frozen=True)
class ServiceConfig:
    db: Path
    campaign: Campaign | None = None
    """The default campaign of batches that bring none."""
    run: RunSettings = field(default_factory=RunSettings)
    token: str | None = None
    """``SALESBUS_API_TOKEN``: required on every route but health when set."""
    max_upload_bytes: int = 20 * 1024 * 1024
    max_rows: int = 100_000
    grace_seconds: float = 30.0
    """On shutdown, how long in-flight steps get to finish."""
    jaeger_url: str = "http://localhost:16686"
    instrumentation: Instrumentation | None = None


@dataclass
class Service:
    """What a route works with. Everything here belongs to the HTTP loop except
    ``runtime``, the handle whose actions run on the runtime's loop."""

    config: ServiceConfig
    reads: Reads
    runtime: RuntimeThread
    closing: bool = False

    @property
    def store(self) -> Store:
        """The store, read-only (on ``reads``'s connection): writes go through ``runtime``."""
        return self.reads.store


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


class _TooLarge(Exception):
    pass


class UploadCap:
    """Refuses request bodies over the cap: by ``Content-Length`` at once, else while reading."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"message": f"the upload is larger than this service takes ({limit} bytes)"}, 413
    )


def require_token(request: Request) -> None:
    """Bearer token (or the inbox's cookie) when the service has one; open on loopback without."""
    expected: str | None = request.app.state.service.config.token
    if expected is None:
        return
    header = request.headers.get("authorization", "")
    given = (
        header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
    )
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status)


def _install_errors(app: FastAPI, limit: int) -> None:
    @app.exception_handler(StarletteHTTPException)  # the router's 404/405 too
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return _error(422, "the request is invalid", errors=errors)

    @app.exception_handler(SubmissionError)
    async def refused(request: Request, exc: SubmissionError) -> JSONResponse:
        return _error(exc.status, str(exc), errors=exc.errors)

    @app.exception_handler(StoreError)
    async def missing(request: Request, exc: StoreError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ApprovalError)
    async def undecidable(request: Request, exc: ApprovalError) -> JSONResponse:
        if exc.report is not None:
            return _error(422, str(exc), quality=exc.report.model_dump(mode="json"))
        return _error(409, str(exc))

    @app.exception_handler(NotRetryable)
    async def not_retryable(request: Request, exc: NotRetryable) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge) -> JSONResponse:
        return _too_large(limit)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}")


def create_app(config: ServiceConfig) -> FastAPI:
    """The application; its lifespan starts the runtime's thread, which opens the store
    and runs (and resumes) batches, then opens the HTTP side's read-only connection."""
    from . import api, inbox

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            runtime_thread(
                config.db,
                config.run,
                grace_seconds=config.grace_seconds,
                instrumentation=config.instrumentation,
            ) as runtime,
            open_reads(config.db) as reads,
        ):
            app.state.service = Service(config, reads, runtime)
            try:
                yield
            finally:
                app.state.service.closing = True

    app = FastAPI(
        title="salesbus",
        summary="Batches of B2B research, analysis and outreach; progress; approvals.",
        version="1",
        lifespan=lifespan,
        openapi_url=None,  # served below, behind the token like everything but health
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(UploadCap, limit=config.max_upload_bytes)
    _install_errors(app, config.max_upload_bytes)
    app.include_router(api.health)
    app.include_router(api.router, dependencies=[Depends(require_token)])
    app.include_router(inbox.router)
    app.include_router(inbox.login)
    app.mount("/static", inbox.static_files(), name="static")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(require_token)])
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="salesbus API")

    return app
