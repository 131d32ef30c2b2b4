"""Embed the salesbus event bus in a plain asyncio application.

Two event types, three subscribers (one of which fails on some events without
stopping anything), a follow-up event published from a handler, a context
variable that follows each event, and a clean shutdown that drains everything.

Run it with ``make demo`` or ``python examples/embed_bus.py``.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from salesbus.bus import Event, EventBus, HandlerFailure

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class OrderPlaced(Event):
    type_name = "example.OrderPlaced"
    order_id: str
    amount_eur: float


class OrderShipped(Event):
    type_name = "example.OrderShipped"
    order_id: str
    carrier: str


async def main() -> None:
    shipped: list[str] = []
    failures: list[HandlerFailure] = []

    async with EventBus() as bus:

        @bus.on(OrderPlaced, concurrency=4)
        async def ship(event: OrderPlaced) -> None:
            await asyncio.sleep(0.01)  # a slow call; four run at once
            await bus.publish(
                OrderShipped(**event.caused(), order_id=event.order_id, carrier="DHL")
            )

        @bus.on(OrderPlaced, name="fraud-check")
        def fraud_check(event: OrderPlaced) -> None:
            if event.amount_eur > 1000:
                raise ValueError(f"order {event.order_id} needs a manual review")

        @bus.on(OrderShipped)
        async def notify(event: OrderShipped) -> None:
            shipped.append(event.order_id)
            print(f"  [{request_id.get()}] order {event.order_id} shipped with {event.carrier}")

        bus.on_failure(failures.append)

        for n, amount in enumerate([40.0, 2500.0, 99.5, 12.0, 1800.0], start=1):
            request_id.set(f"req-{n}")  # each handler sees the id of the publish that caused it
            await bus.publish(
                OrderPlaced(order_id=f"A-{n}", amount_eur=amount, correlation_id=f"req-{n}")
            )

    print(f"shipped {len(shipped)} orders: {', '.join(sorted(shipped))}")
    for failure in failures:
        print(f"failed in {failure.subscription.name}: {failure.exception}")
    assert bus.last_drain is not None
    print("clean shutdown:", "nothing dropped" if bus.last_drain.complete else bus.last_drain)


if __name__ == "__main__":
    asyncio.run(main())
