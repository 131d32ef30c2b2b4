"""The store's event log: each event appended with the next group commit, kept small (payload
fields named, not copied; an oversized body replaced by a stub)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pydantic import BaseModel

from salesbus.bus import Event

from .store_core import StoreCore

__all__ = ["EVENT_BODY_LIMIT", "EventLog", "compact_event_json", "status_event_json"]

EVENT_BODY_LIMIT = 4_096


def compact_event_json(event: Event) -> str:
    """An event as JSON with its payload fields named instead of copied.

    Payloads (nested models: a company, a profile, an analysis, a step's
    output) are stored whole once — as the workflow's company or a step's
    output — so a step input or an event-log entry keeps the event's identity,
    links and small fields, and the names of the payloads it carried.
    """
    payloads = {name for name, value in event if isinstance(value, BaseModel)}
    data = event.__pydantic_serializer__.to_json(event, exclude=payloads).decode()
    return (
        f'{{"type":{json.dumps(type(event).type_name)},"data":{data},'
        f'"payload_fields":{json.dumps(sorted(payloads))}}}'
    )


def status_event_json(event: Event, fields: Iterable[str]) -> str:
    """A status event as JSON with only the named small fields, in the log's shape.

    What a progress stream shows of a step's status; the attempt row keeps
    the rest (usage, duration, error), so the log need not repeat it.
    """
    data = event.model_dump(mode="json", include=set(fields), exclude_none=True)
    return json.dumps({"type": type(event).type_name, "data": data}, separators=(",", ":"))


class EventLog(StoreCore):
    """The event log."""

    # -- event log -----------------------------------------------------------------

    def log_event(self, event: Event, body: str | None = None) -> None:
        """Append to the event log with the next group commit (never waits).

        ``body`` replaces the event's compact JSON (see :func:`status_event_json`).
        The write is owned by the event's workflow: if it fails every try, that
        workflow is told (see :meth:`enqueue`).
        """
        body = body or compact_event_json(event)
        if len(body) > EVENT_BODY_LIMIT:
            body = json.dumps({"type": type(event).type_name, "omitted_size": len(body)})
        self.enqueue(
            [
                (
                    "INSERT OR IGNORE INTO events (event_id, type, workflow_id, causation_id,"
                    " occurred_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        event.event_id,
                        type(event).type_name,
                        event.correlation_id,
                        event.causation_id,
                        event.occurred_at.isoformat(),
                        body,
                    ),
                )
            ],
            owner=event.correlation_id,
        )
