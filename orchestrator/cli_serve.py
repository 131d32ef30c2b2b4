"""``salesbus serve``: the HTTP service (API, event stream, metrics, approval inbox).

Registered on the ``salesbus`` app by one import in :mod:`.cli`. It parses the
options, refuses an unsafe bind, and hands the application to uvicorn; the
service itself is :mod:`.service`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from salesbus.agents.campaign import load_campaign
from salesbus.observability import configure_telemetry

from .cli import TRANSPORT, DbOption, _choice, _guard, _instrumentation, _logging, app, err
from .runner import RunSettings, Simulation
from .service.app import ServiceConfig, create_app
from .transports import check_transport, is_broker

__all__ = ["TOKEN_ENV", "check_bind", "serve"]

TOKEN_ENV = "SALESBUS_API_TOKEN"


class UnsafeBind(Exception):
    """Listening beyond loopback without a token would hand the service to anyone."""


def check_bind(host: str, token: str | None) -> None:
    """:raises UnsafeBind: a non-loopback ``host`` without a token."""
    if token:
        return
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UnsafeBind(
            f"refusing to listen on {host} without a token: set {TOKEN_ENV}, or bind 127.0.0.1"
        )


class _Server(uvicorn.Server):
    """uvicorn, telling the service at the first signal so event streams end and
    nothing new is admitted while connections close."""

    def __init__(self, config: uvicorn.Config, application: FastAPI) -> None:
        super().__init__(config)
        self._application = application

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        service = getattr(self._application.state, "service", None)
        if service is not None:
            service.closing = True
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's own, except that a stop that went gracefully exits 0 (uvicorn re-raises
        the signal afterwards, so the process would end "killed by SIGTERM")."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8000,
    db: DbOption = Path("salesbus.db"),
    campaign: Annotated[
        Path | None, typer.Option("--campaign", "-c", help="Default campaign TOML of batches.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Workflows in flight at once, shared by all batches.")
    ] = 50,
    llm: Annotated[str, typer.Option(help="auto, offline or anthropic.")] = "auto",
    model: Annotated[str | None, typer.Option(help="Default Claude model id.")] = None,
    llm_concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Model calls at once, at most (default: learnt from the API)."),
    ] = None,
    rpm: Annotated[float | None, typer.Option(help="Model requests per minute, at most.")] = None,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per step.")] = 4,
    step_timeout: Annotated[float, typer.Option(help="Seconds per step attempt.")] = 120.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest upload accepted, MiB.")] = 20.0,
    max_rows: Annotated[int, typer.Option(min=1, help="Most rows in one batch.")] = 100_000,
    grace: Annotated[
        float, typer.Option(help="Seconds in-flight steps get to finish on SIGTERM.")
    ] = 30.0,
    jaeger: Annotated[
        str, typer.Option(envvar="SALESBUS_JAEGER_URL", help="Jaeger UI base URL.")
    ] = "http://localhost:16686",
    otlp: Annotated[str | None, typer.Option(help="OTLP endpoint for traces and metrics.")] = None,
    log_format: Annotated[str, typer.Option(help="text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "INFO",
    simulate_latency: Annotated[float, typer.Option(hidden=True)] = 0.0,
    transport: Annotated[str, TRANSPORT] = "memory",
) -> None:
    """Run the HTTP service: batches, progress, events, metrics and the approval inbox at /."""
    token = os.environ.get(TOKEN_ENV) or None
    try:
        check_bind(host, token)
    except UnsafeBind as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    default_campaign = _guard(lambda: load_campaign(campaign)) if campaign else None
    _logging(log_level, log_format)
    settings = _guard(
        lambda: RunSettings(
            llm=_choice(llm),
            model=model,
            concurrency=concurrency,
            llm_concurrency=llm_concurrency,
            requests_per_minute=rpm,
            max_attempts=max_attempts,
            step_timeout=step_timeout,
            simulation=Simulation(latency=simulate_latency),
            transport=check_transport(transport),
        )
    )
    with configure_telemetry(otlp_endpoint=otlp) as telemetry:
        config = ServiceConfig(
            db=db,
            campaign=default_campaign,
            run=settings,
            token=token,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            max_rows=max_rows,
            grace_seconds=grace,
            jaeger_url=jaeger,
            instrumentation=_instrumentation(telemetry, broker=is_broker(transport)),
        )
        application = create_app(config)
        server = _Server(
            uvicorn.Config(
                application,
                host=host,
                port=port,
                log_config=None,
                timeout_graceful_shutdown=max(1, round(grace)),
                proxy_headers=False,
            ),
            application,
        )
        server.run()
