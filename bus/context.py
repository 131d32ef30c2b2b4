"""Run a coroutine inside a given :class:`contextvars.Context` without a new task.

A handler must see the context variables of the publish that caused it (the
publisher's trace span above all), but the worker that runs it is a long-lived
task with a context of its own. Spawning a task per event would carry the
context for free and cost several microseconds; instead each step of the
handler's coroutine is driven inside the captured context, and whatever the
coroutine yields to the event loop (asyncio futures, trio traps) passes through
untouched, so this works on every anyio backend.

Most handlers finish without suspending, so the worker takes the first step
itself (:func:`first_step`) and only a handler that yields is driven on by
:func:`resume_in_context`: no generator frame for the common case.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from contextvars import Context
from typing import Any, TypeVar

__all__ = ["resume_in_context", "run_in_context"]

T = TypeVar("T")


@types.coroutine
def resume_in_context(
    context: Context, coro: Coroutine[Any, Any, T], yielded: Any
) -> Generator[Any, Any, T]:
    """Drive ``coro`` on, inside ``context``, from a step that yielded ``yielded``."""
    run = context.run
    send, throw = coro.send, coro.throw
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            run(coro.close)
            raise
        except BaseException as exc:
            try:
                yielded = run(throw, exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
        else:
            try:
                yielded = run(send, sent)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]


@types.coroutine
def _drive(context: Context, coro: Coroutine[Any, Any, T]) -> Generator[Any, Any, T]:
    try:
        yielded = context.run(coro.send, None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    return (yield from resume_in_context(context, coro, yielded))


def run_in_context(context: Context, coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    """Await ``coro`` with every one of its steps run inside ``context``::

    await run_in_context(captured, handler(event))
    """
    return _drive(context, coro)
