"""Interceptors: the one extension point around publishing and handling.

Tracing, metrics and status events are added from outside the bus by wrapping
the two calls that matter, in the shape ``scope(call_next, ...)``. An interceptor
may act before and after ``call_next``, replace the event it passes on (events
are immutable: use ``model_copy``), or observe an exception on its way out.

The chains are composed once, when a subscription is added or the interceptor
list changes, so a bus without interceptors pays nothing per event. An
interceptor that acts on only some events says which with two cheap checks,
:meth:`Interceptor.passes` (per event) and :meth:`Interceptor.consumes` (per
subscription, at compose time); for the rest the bus keeps its fast path, as
if the interceptor were not there: a coroutine layer per scope costs about half
an untraced hop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from .event import Event

if TYPE_CHECKING:
    from .subscription import Subscription

__all__ = [
    "ConsumeNext",
    "Interceptor",
    "PublishNext",
    "compose_consume",
    "compose_publish",
    "consume_chain",
    "overrides",
    "pass_check",
]

PublishNext = Callable[[Event], Awaitable[None]]
ConsumeNext = Callable[[Event], Awaitable[None]]


class Interceptor:
    """Pass-through defaults; override the scope you need."""

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        """Around every ``publish``; the innermost step captures the context for handlers."""
        await call_next(event)

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        """Around every handler call, inside the publisher's context."""
        await call_next(event)

    def passes(self, event: Event) -> bool:
        """Whether both scopes would only pass ``event`` on, unchanged; then the bus skips them.

        Optional. The bus calls it for every event, before the chain, so it
        must be cheap and must not raise; when every interceptor in a chain
        says ``True`` the event takes the path a bus without interceptors
        takes (still in the publisher's context). The scopes themselves must
        give the same answer, since a publish that has to wait for room still
        goes through them. Not overridden: the scopes always run.
        """
        return False

    def consumes(self, subscription: Subscription[Event]) -> bool:
        """Whether :meth:`consume_scope` acts for ``subscription`` at all (default: yes).

        Asked once, when the subscription's chain is composed; ``False`` leaves
        this interceptor out of that chain.
        """
        return True


def overrides(interceptor: Interceptor, method: str) -> bool:
    """Whether ``interceptor`` has its own ``method`` (a pass-through costs nothing)."""
    return getattr(type(interceptor), method) is not getattr(Interceptor, method)


def pass_check(interceptors: Sequence[Interceptor]) -> Callable[[Event], bool] | None:
    """One call answering :meth:`Interceptor.passes` for all of ``interceptors``.

    ``None`` when some interceptor has no such check, so every event must go
    through the chain.
    """
    if not all(overrides(i, "passes") for i in interceptors):
        return None
    checks = tuple(i.passes for i in interceptors)
    if len(checks) == 1:
        return checks[0]

    def all_pass(event: Event) -> bool:
        return all(check(event) for check in checks)

    return all_pass


def consume_chain(
    interceptors: Sequence[Interceptor], subscription: Subscription[Event]
) -> list[Interceptor]:
    """The interceptors whose consume scope acts for ``subscription``, outermost first."""
    return [i for i in interceptors if overrides(i, "consume_scope") and i.consumes(subscription)]


def compose_publish(interceptors: Sequence[Interceptor], innermost: PublishNext) -> PublishNext:
    """The first interceptor is the outermost."""
    call = innermost
    for interceptor in reversed(interceptors):
        if overrides(interceptor, "publish_scope"):
            call = _bind_publish(interceptor, call)
    return call


def _bind_publish(interceptor: Interceptor, call_next: PublishNext) -> PublishNext:
    async def scoped(event: Event) -> None:
        await interceptor.publish_scope(call_next, event)

    return scoped


def compose_consume(
    interceptors: Sequence[Interceptor],
    subscription: Subscription[Event],
    innermost: ConsumeNext,
) -> ConsumeNext:
    call = innermost
    for interceptor in reversed(interceptors):
        if overrides(interceptor, "consume_scope"):
            call = _bind_consume(interceptor, subscription, call)
    return call


def _bind_consume(
    interceptor: Interceptor, subscription: Subscription[Event], call_next: ConsumeNext
) -> ConsumeNext:
    async def scoped(event: Event) -> None:
        await interceptor.consume_scope(call_next, event, subscription)

    return scoped
