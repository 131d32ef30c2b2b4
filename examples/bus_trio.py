"""The salesbus event bus in a trio program: no asyncio anywhere.

A small price-watch service: ``PriceQuoted`` events arrive, a subscriber
checks them against a limit (a blocking check, run in a thread), failures are
retried and then dead-lettered, and the main task waits for the first alert
with ``wait_for`` and asks a question with ``request``. It ends with the bus's
statistics and a clean drain.

Run it with ``python examples/bus_trio.py``.
"""

from __future__ import annotations

import time

import trio

from salesbus.bus import DeadLetter, ErrorPolicy, Event, EventBus


class PriceQuoted(Event):
    type_name = "example.PriceQuoted"
    symbol: str
    price: float


class PriceAlert(Event):
    type_name = "example.PriceAlert"
    symbol: str
    price: float


class LimitAsked(Event):
    type_name = "example.LimitAsked"
    symbol: str


class LimitTold(Event):
    type_name = "example.LimitTold"
    symbol: str
    limit: float


LIMITS = {"ACME": 120.0, "GLOBEX": 40.0}


async def main() -> None:
    async with EventBus() as bus:

        def over_limit(quote: PriceQuoted) -> None:
            """A blocking check (imagine a slow library call): runs in a worker thread."""
            time.sleep(0.001)
            if quote.symbol not in LIMITS:
                raise KeyError(f"no limit for {quote.symbol}")
            if quote.price > LIMITS[quote.symbol]:
                trio.from_thread.run(
                    bus.publish,
                    PriceAlert(**quote.caused(), **quote.model_dump(include={"symbol", "price"})),
                )

        bus.subscribe(
            PriceQuoted,
            over_limit,
            name="limit-check",
            run_in_thread=True,
            concurrency=4,
            on_error=ErrorPolicy(retries=2, backoff=0.001, dead_letter=True),
        )

        @bus.on(DeadLetter)
        def report(letter: DeadLetter) -> None:
            attempts = f"after {letter.attempts} attempts"
            print(f"dead letter from {letter.subscription} {attempts}: {letter.error}")

        @bus.on(LimitAsked)
        async def tell(question: LimitAsked) -> None:
            await bus.publish(
                LimitTold(
                    **question.caused(), symbol=question.symbol, limit=LIMITS[question.symbol]
                )
            )

        async def feed() -> None:
            for symbol, price in [
                ("ACME", 100.0),
                ("GLOBEX", 39.5),
                ("INITECH", 7.0),
                ("ACME", 125.5),
            ]:
                await bus.publish(PriceQuoted(symbol=symbol, price=price))
                await trio.sleep(0.005)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            alert = await bus.wait_for(PriceAlert, timeout=5)
            print(f"alert: {alert.symbol} at {alert.price}")

        told = await bus.request(LimitAsked(symbol="GLOBEX"), LimitTold, timeout=5)
        print(f"limit for {told.symbol}: {told.limit}")

        await bus.join()
        check = bus.statistics()["limit-check"]
        print(
            f"limit-check: {check.delivered} delivered, {check.failed} failed,"
            f" {check.retried} retries, {check.dead_lettered} dead-lettered"
        )
    drained = bus.last_drain is not None and bus.last_drain.complete
    print("clean shutdown: nothing dropped" if drained else f"drain: {bus.last_drain}")


if __name__ == "__main__":
    trio.run(main)
