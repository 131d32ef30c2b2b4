"""A subscription's worker: take deliveries from its inbox, call the handler, apply the
error policy. ``concurrency`` of these run per subscription, in the bus's task group.

The loop is the bus's hot path, so it reads attributes into locals once, never
awaits while the inbox has deliveries and the handler does not suspend, and
takes the first step of an async handler itself (most finish in it).
"""

from __future__ import annotations

import logging
from contextvars import Context
from typing import TYPE_CHECKING, Any

import anyio
from anyio.lowlevel import checkpoint

from .context import resume_in_context, run_in_context
from .event import Event
from .inbox import Receipt
from .policy import DeadLetter
from .subscription import HandlerFailure, Subscription

if TYPE_CHECKING:
    from .bus import EventBus

__all__ = ["work"]

logger = logging.getLogger("salesbus.bus")

_YIELD_EVERY = 256
"""A worker whose handlers never suspend still lets other tasks run this often."""


async def work(bus: EventBus, subscription: Subscription[Any], slot: int) -> None:
    """Handle deliveries until the subscription is closed and its inbox is empty."""
    inbox = subscription.inbox
    items = inbox.items
    blocked_senders = inbox.blocked_senders
    in_flight = subscription.in_flight
    stats = subscription.stats
    tracker = bus.tracker
    done = tracker.done
    task_id = anyio.get_current_task().id
    tracker.workers[task_id] = inbox  # inbox.workers was counted when the task was started
    handled = 0
    try:
        while True:
            if not items:
                if inbox.closed:
                    return
                await inbox.wait_for_delivery()
                continue
            event, context, receipt = items.popleft()
            if blocked_senders:
                blocked_senders.popleft().set()
            if subscription.once:
                bus._retire(subscription)
            in_flight[slot] = event
            try:
                passes = subscription.passes
                if passes is not None and passes(event):
                    # Every consume interceptor would only call on: the handler
                    # as a bus without interceptors calls it.
                    call = subscription.direct
                    is_async = subscription.direct_is_async
                else:
                    call = subscription.call
                    is_async = subscription.is_async
                if not is_async:
                    if context is None:
                        call(event)
                    else:
                        context.run(call, event)
                elif context is None:
                    await call(event)
                else:
                    coro = call(event)
                    try:
                        step = context.run(coro.send, None)
                    except StopIteration:
                        pass
                    else:
                        await resume_in_context(context, coro, step)
            except Exception as exc:
                await _failed(bus, subscription, event, context, receipt, exc)
            else:
                stats.delivered += 1
                if receipt is not None:
                    await receipt.ack()
            finally:
                in_flight[slot] = None
                done()
            handled += 1
            if handled % _YIELD_EVERY == 0:
                await checkpoint()
    finally:
        del tracker.workers[task_id]
        inbox.workers -= 1
        if inbox.workers == 0 and inbox.closed:
            bus._forget(subscription)


async def _call(subscription: Subscription[Any], event: Event, context: Context | None) -> None:
    """One more attempt (a retry): the plain, unhurried form of the loop's call."""
    call = subscription.call
    if not subscription.is_async:
        if context is None:
            call(event)
        else:
            context.run(call, event)
    elif context is None:
        await call(event)
    else:
        await run_in_context(context, call(event))


async def _failed(
    bus: EventBus,
    subscription: Subscription[Any],
    event: Event,
    context: Context | None,
    receipt: Receipt | None,
    exc: Exception,
) -> None:
    """Retry as the policy says; then report, dead-letter, and nak what is still failing."""
    policy = subscription.error_policy
    stats = subscription.stats
    attempts = 1
    while attempts <= policy.retries:
        await anyio.sleep(policy.delay(attempts))
        attempts += 1
        stats.retried += 1
        try:
            await _call(subscription, event, context)
        except Exception as again:
            exc = again
        else:
            stats.delivered += 1
            if receipt is not None:
                await receipt.ack()
            return
    stats.failed += 1
    report = _report(bus, subscription, event, exc, attempts)
    if context is None:
        await report
    else:
        await run_in_context(context, report)
    if receipt is not None:
        await receipt.nak(exc)


async def _report(
    bus: EventBus, subscription: Subscription[Any], event: Event, exc: Exception, attempts: int
) -> None:
    """Failure hooks (or the log), then the dead letter; run in the delivery's context."""
    failure = HandlerFailure(event, subscription, exc)
    hooks = bus.failure_hooks
    dead_letter = subscription.error_policy.dead_letter and not isinstance(event, DeadLetter)
    if not hooks and dead_letter:  # the dead letter carries it: one line, no traceback
        logger.warning(
            "handler %s failed on %s %s after %d attempt(s), dead-lettered: %r",
            subscription.name,
            type(event).type_name,
            event.event_id,
            attempts,
            exc,
        )
    elif not hooks:
        logger.error(
            "handler %s failed on %s %s after %d attempt(s)",
            subscription.name,
            type(event).type_name,
            event.event_id,
            attempts,
            exc_info=exc,
        )
    for hook in hooks:
        try:
            outcome = hook(failure)
            if outcome is not None:
                await outcome
        except Exception:
            logger.exception("failure hook %r raised", hook)
    if not dead_letter:
        return
    letter = DeadLetter.trusted(
        **event.caused(),
        event=event,
        subscription=subscription.name,
        error_type=f"{type(exc).__module__}.{type(exc).__qualname__}",
        error=str(exc),
        attempts=attempts,
    )
    try:
        await bus.publish(letter)
    except Exception:
        logger.exception("could not publish the dead letter for %s", event.event_id)
    else:
        subscription.stats.dead_lettered += 1
