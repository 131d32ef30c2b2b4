"""What the NATS transport documents as different from the memory transport (docs/bus.md).

Each is the reason a ``memory_only`` test does not run on NATS; the NATS side
of each has its own specification in tests/nats/.
"""

NATS_CONTEXT = (
    "only the W3C trace context crosses a broker (in Event.trace_context and the"
    " traceparent header); other contextvars stay in the publishing process"
)
NATS_PUBLISH = (
    "publish waits for the broker's acknowledgement, never for a subscriber's inbox:"
    " the inbox bound throttles pulling from the broker instead, so no publisher"
    " backpressure, publish timeout on a full inbox or publish cycle exists"
)
NATS_NOWAIT = "publish_nowait is refused: a broker acknowledgement cannot be had without waiting"
NATS_BACKLOG = (
    "unsubscribing stops pulling: what the broker still holds for a durable"
    " subscription waits there for the next process subscribing under its name"
)
NATS_CONSUMERS = "a subscription is a broker consumer: ten thousand of them is a load test"
NATS_TIMING = (
    "which deliveries are in a process's hands when the bus is cancelled depends on the"
    " broker's timing; on NATS the rest stay on the server and are delivered again"
    " (tests/nats: an event held by a process that stopped goes to another)"
)
