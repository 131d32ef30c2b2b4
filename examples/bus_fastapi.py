"""Publish events from FastAPI request handlers with the salesbus event bus.

The bus lives as long as the application (FastAPI's lifespan): request
handlers publish with a timeout (a full inbox becomes ``503``, not a hung
request), ask for an answer with ``request`` (a missing answer becomes ``404``),
and background subscribers do the slow work after the response has gone. A
request id set by a middleware follows every event into its handlers, because
each handler runs in the context of the publish that caused it.

Run it with ``python examples/bus_fastapi.py --port 8000`` and try::

    curl -X POST localhost:8000/orders -H 'content-type: application/json' \\
         -H 'x-request-id: r-1' -d '{"order_id": "A-1", "amount_eur": 12.5}'
    curl localhost:8000/quotes/widget?quantity=4
    curl localhost:8000/shipped
    curl localhost:8000/bus
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import anyio
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel

from salesbus.bus import Event, EventBus, EventTimeoutError, PublishTimeoutError

request_id: ContextVar[str] = ContextVar("request_id", default="-")

PRICES_EUR = {"widget": 2.5, "gadget": 12.0}


class OrderPlaced(Event):
    type_name = "example.api.OrderPlaced"
    order_id: str
    amount_eur: float


class QuoteAsked(Event):
    type_name = "example.api.QuoteAsked"
    sku: str
    quantity: int


class QuoteGiven(Event):
    type_name = "example.api.QuoteGiven"
    sku: str
    quantity: int
    total_eur: float


class NewOrder(BaseModel):
    order_id: str
    amount_eur: float


def create_app() -> FastAPI:
    bus = EventBus(shutdown_timeout=5)
    shipped: list[dict[str, str]] = []

    @bus.on(OrderPlaced, concurrency=8, max_pending=100)
    async def ship(order: OrderPlaced) -> None:
        await anyio.sleep(0.01)  # the slow part, after the response has gone
        shipped.append({"order_id": order.order_id, "request_id": request_id.get()})

    @bus.on(QuoteAsked, concurrency=4)
    async def quote(asked: QuoteAsked) -> None:
        price = PRICES_EUR.get(asked.sku)
        if price is None:
            return  # no answer: the requester times out
        total = round(price * asked.quantity, 2)
        await bus.publish(
            QuoteGiven(**asked.caused(), sku=asked.sku, quantity=asked.quantity, total_eur=total)
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bus:
            yield
        report = bus.last_drain
        print(
            "bus drained: nothing dropped"
            if report is not None and report.complete
            else f"bus drained with losses: {report}",
            flush=True,
        )

    app = FastAPI(lifespan=lifespan)

    @app.middleware("http")
    async def tag_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = request_id.set(request.headers.get("x-request-id", "-"))
        try:
            return await call_next(request)
        finally:
            request_id.reset(token)

    @app.post("/orders", status_code=202)
    async def place_order(order: NewOrder) -> dict[str, str]:
        try:
            await bus.publish(OrderPlaced(**order.model_dump()), timeout=1.0)
        except PublishTimeoutError:
            raise HTTPException(503, "too many orders in flight; try again") from None
        return {"accepted": order.order_id}

    @app.get("/quotes/{sku}")
    async def get_quote(sku: str, quantity: int = 1) -> dict[str, Any]:
        try:
            given = await bus.request(
                QuoteAsked(sku=sku, quantity=quantity), QuoteGiven, timeout=0.5
            )
        except EventTimeoutError:
            raise HTTPException(404, f"no price for {sku!r}") from None
        return given.model_dump(include={"sku", "quantity", "total_eur"})

    @app.get("/shipped")
    async def list_shipped() -> list[dict[str, str]]:
        return shipped

    @app.get("/bus")
    async def bus_statistics() -> dict[str, Any]:
        stats = bus.statistics()
        return {
            "outstanding": stats.outstanding,
            "subscriptions": {
                s.name: {"depth": s.depth, "in_flight": s.in_flight, "delivered": s.delivered}
                for s in stats.subscriptions
            },
        }

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
