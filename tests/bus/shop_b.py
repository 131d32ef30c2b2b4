"""A library's events, for the naming tests: b defines ``OrderPlaced`` too."""

from __future__ import annotations

from salesbus.bus import Event


class OrderPlaced(Event):
    order_id: str
