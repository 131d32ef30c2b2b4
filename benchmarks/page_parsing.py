"""What parsing pages in a worker process costs, and what it saves the event loop.

Two measurements, each the median of ``--repeats`` rounds, the baseline in the
same invocation:

1. **Cost per page**: a typical homepage (about 40 KB, 1,500 tags) read with
   :func:`salesbus.agents.page_text.read_page` inline on the event loop (the
   baseline: what the fetcher did before) and through a warm
   ``anyio.to_process`` worker (what it does now). The difference is the price
   of the process hop, to set beside a fetch that takes hundreds of
   milliseconds.
2. **Event-loop lag** while the largest page the limits admit (60,000 tags) is
   parsed: inline versus in the worker, measured by a ticker that sleeps 5 ms.

Run: ``.venv/bin/python benchmarks/page_parsing.py [--repeats 5] [--pages 40]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio
import anyio.to_process

from salesbus.agents.page_text import TextLimits, read_page

LIMITS = TextLimits()
TICK = 0.005


def homepage() -> bytes:
    section = (
        "<section><h2>Warehouse robots</h2><p>Acme builds picking robots for mid-sized "
        "retailers, with <a href='/case/{i}'>case study {i}</a> and <b>pricing</b>.</p>"
        "<ul><li>Fast</li><li>Safe</li><li>Cheap</li></ul></section>"
    )
    body = "".join(section.format(i=i) for i in range(190))
    return (
        "<html><head><title>Acme</title><meta name='description' content='Robots'></head>"
        f"<body><nav><a href='/about'>About</a></nav><main>{body}</main></body></html>"
    ).encode()


def widest() -> bytes:
    return b"<html><body>" + b"<b>x</b>" * (LIMITS.max_tags // 2 - 10)


async def per_page_ms(page: bytes, pages: int, in_worker: bool) -> float:
    start = time.perf_counter()
    for _ in range(pages):
        if in_worker:
            await anyio.to_process.run_sync(
                read_page, page, "utf-8", "https://acme.example/", LIMITS
            )
        else:
            read_page(page, "utf-8", "https://acme.example/", LIMITS)
    return (time.perf_counter() - start) / pages * 1000


async def lag_ms(page: bytes, in_worker: bool) -> float:
    worst = 0.0

    async def tick() -> None:
        nonlocal worst
        while True:
            before = time.perf_counter()
            await anyio.sleep(TICK)
            worst = max(worst, time.perf_counter() - before - TICK)

    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        await anyio.sleep(0.05)
        worst = 0.0
        await per_page_ms(page, 3, in_worker)
        await anyio.sleep(TICK * 4)  # let the ticker see how late it woke
        tg.cancel_scope.cancel()
    return worst * 1000


async def main(repeats: int, pages: int) -> None:
    typical, largest = homepage(), widest()
    await per_page_ms(typical, 1, in_worker=True)  # start the worker
    rows: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, value in (
            ("typical page, inline (ms/page)", await per_page_ms(typical, pages, False)),
            ("typical page, worker (ms/page)", await per_page_ms(typical, pages, True)),
            ("60k-tag page, inline: loop lag (ms)", await lag_ms(largest, False)),
            ("60k-tag page, worker: loop lag (ms)", await lag_ms(largest, True)),
        ):
            rows.setdefault(name, []).append(value)
    print(f"typical page {len(typical):,} bytes; largest admitted {len(largest):,} bytes")
    print(f"medians of {repeats} rounds ({pages} pages per round for the cost):")
    for name, values in rows.items():
        print(f"  {name:40} {statistics.median(values):8.2f}")
    inline = statistics.median(rows["typical page, inline (ms/page)"])
    worker = statistics.median(rows["typical page, worker (ms/page)"])
    print(f"  worker / inline cost per typical page   {worker / inline:8.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", type=int, default=40)
    arguments = parser.parse_args()
    anyio.run(main, arguments.repeats, arguments.pages)
