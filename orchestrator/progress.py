"""The live progress display of ``salesbus run`` and the summary printed after it."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table

from .engine import BatchProgress
from .metrics import BatchMetrics
from .safe_text import safe
from .states import TERMINAL_STATES

__all__ = ["render_metrics", "run_progress", "state_line"]


def state_line(progress: BatchProgress) -> str:
    """Counts by state, failures, tokens (cache reads and writes apart), cost so far and
    the projected total, in one line."""
    states = ", ".join(
        f"{state} {count}" for state, count in sorted(progress.states.items()) if count
    )
    tokens = progress.input_tokens + progress.output_tokens
    cache = ""
    if progress.cache_read_tokens or progress.cache_write_tokens:
        cache = (
            f" (cache read {progress.cache_read_tokens:,}, written {progress.cache_write_tokens:,})"
        )
    return (
        f"{states} | failed attempts {progress.attempts_failed}, retries {progress.retries}"
        f" | {progress.calls} calls, {tokens:,} tokens{cache}, ${progress.cost_usd:.4f}"
        + _projection(progress)
    )


def _projection(progress: BatchProgress) -> str:
    """Cost so far scaled to the whole batch, once some companies have finished."""
    finished = progress.finished
    if not progress.cost_usd or not finished or finished >= progress.total:
        return ""
    started = finished + progress.in_flight
    return f" (projected ${progress.cost_usd / started * progress.total:.4f})"


async def run_progress(
    read: Callable[[], BatchProgress],
    console: Console,
    interval: float = 0.25,
    plain_every: float = 10.0,
) -> None:
    """Redraw a progress bar from ``read()`` until cancelled; when the console is not a
    terminal (piped, redirected), print a plain progress line every ``plain_every`` s."""
    if not console.is_terminal:
        await _plain_progress(read, console, interval, plain_every)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, TextColumn("{task.fields[states]}"), console=console) as bar:
        task = bar.add_task("companies", total=None, rate="", states="")
        while True:
            progress = read()
            done = sum(n for s, n in progress.states.items() if s in TERMINAL_STATES)
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(
                task,
                total=progress.total or None,
                completed=done,
                rate=f"{done / elapsed:.1f}/s",
                states=state_line(progress),
            )
            await anyio.sleep(interval)


async def _plain_progress(
    read: Callable[[], BatchProgress], console: Console, interval: float, every: float
) -> None:
    """Whole lines, never redrawn or cut, at most one per ``every`` seconds and only
    when something changed: what a log file or a pipe wants."""
    last_line, last_time = "", -every
    while True:
        progress = read()
        if progress.total:  # nothing to say before the batch is known
            done = sum(n for s, n in progress.states.items() if s in TERMINAL_STATES)
            line = f"{done}/{progress.total} companies finished | {state_line(progress)}"
            now = time.monotonic()
            if line != last_line and now - last_time >= every:
                console.print(line, soft_wrap=True, highlight=False)
                last_line, last_time = line, now
        await anyio.sleep(interval)


def render_metrics(metrics: BatchMetrics, console: Console) -> None:
    """The ``salesbus metrics`` report."""
    console.print(f"[bold]batch {metrics.batch_id}[/]: {metrics.total} workflows")
    states = Table("state", "count", title="workflows by state")
    for state, count in sorted(metrics.states.items()):
        states.add_row(state, str(count))
    console.print(states)
    rate = metrics.success_rate
    console.print(
        "success rate (completed / finished): "
        + (f"{rate:.1%}" if rate is not None else "n/a (nothing finished)")
    )
    numbers = (
        "attempts",
        "ok",
        "failed",
        *(["interrupted"] if metrics.interrupted else []),
        "skipped",
        "p50 ms",
        "p95 ms",
        "tokens",
        "cost $",
    )
    interrupted = bool(metrics.interrupted)
    steps = Table(  # fits 80 columns without cutting a step name or a number
        Column("step", no_wrap=True),
        *(Column(h, no_wrap=True, justify="right") for h in numbers),
        title="steps",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for step in metrics.steps:
        steps.add_row(
            step.step,
            str(step.attempts),
            str(step.succeeded),
            str(step.failed),
            *([str(step.abandoned)] if interrupted else []),
            str(step.skipped),
            _ms(step.p50_ms),
            _ms(step.p95_ms),
            f"{step.input_tokens + step.output_tokens:,}",
            f"{step.cost_usd:.4f}",
        )
    console.print(steps)
    if metrics.top_failures:
        console.print("most common failures:")
        for where, count in metrics.top_failures:
            console.print(f"  {count:>5}  {safe(where)}")
    console.print(
        f"LLM: {metrics.calls} calls, {metrics.input_tokens:,} input tokens"
        f" (cache read {metrics.cache_read_tokens:,}, written {metrics.cache_write_tokens:,}),"
        f" {metrics.output_tokens:,} output tokens, ${metrics.cost_usd:.4f}"
    )
    if metrics.interrupted:
        console.print(
            f"[yellow]{metrics.interrupted} attempt(s) were interrupted by a kill or stop:[/]"
            " their model calls and cost are unknown and not included above"
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
