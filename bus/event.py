"""The event base class and the registry that names event types.

Events cross process boundaries (JSON, NATS, SQLite), so each concrete type
needs a stable name that survives refactors; the registry maps that name back to
the class when an event is decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

from .errors import DuplicateEventTypeError, UnknownEventTypeError
from .ids import new_event_id

__all__ = ["Event", "EventRegistry", "default_registry", "new_event_id"]

_now = datetime.now
_new = object.__new__


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """A BaseModel slot's setter, called directly: what model_construct does, minus its checks."""
    setter: Callable[[Any, Any], None] = BaseModel.__dict__[name].__set__
    return setter


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")


def _utc_now() -> datetime:
    return _now(UTC)


class EventRegistry:
    """Maps stable type names to event classes, so decoded JSON becomes typed events.

    Every :class:`Event` subclass registers itself in :data:`default_registry` when
    the class is created. A separate registry is useful when an application wants to
    decode only a closed set of types.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, type[Event]] = {}

    def register(self, cls: type[Event]) -> None:
        """Register ``cls`` under ``cls.type_name``.

        :raises DuplicateEventTypeError: another class already holds that name.
            Re-defining the same module-qualified class (a reload) replaces it.
        """
        name = cls.type_name
        existing = self._by_name.get(name)
        if existing is not None and _qualified(existing) != _qualified(cls):
            raise DuplicateEventTypeError(name, existing, cls)
        self._by_name[name] = cls

    def resolve(self, name: str) -> type[Event]:
        """:raises UnknownEventTypeError: no class is registered under ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownEventTypeError(name) from None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


default_registry = EventRegistry()


class Event(BaseModel):
    """Base of every event: immutable, typed, and self-describing on the wire.

    ``correlation_id`` ties together every event of one logical run (a workflow);
    ``causation_id`` names the event this one reacts to; ``trace_context`` carries
    the W3C ``traceparent``/``tracestate`` of the publisher so a trace survives
    queues, restarts and other processes.

    Each concrete class has a wire name, ``type_name``: by default its module and
    qualified name (``shop.orders.OrderPlaced``), so two libraries that both
    define ``OrderPlaced`` coexist in one process. Events that are stored or sent
    to other processes should name themselves explicitly, so that moving the
    class to another module does not orphan what was written before::

        class OrderPlaced(Event):
            type_name = "shop.OrderPlaced"
            order_id: str
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str] = "Event"

    event_id: str = Field(default_factory=new_event_id)
    occurred_at: datetime = Field(default_factory=_utc_now)
    correlation_id: str | None = None
    causation_id: str | None = None
    trace_context: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = _qualified(cls)
        default_registry.register(cls)

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """Build an event from values that are already of the right types, without validation.

        For code that copies fields out of other validated models (a runtime
        building its status events); never for outside input, which must go
        through ``cls(**fields)``. Defaults are filled in as the validating
        constructor would. It saves less than one might hope (2.35 vs 2.64 µs for
        a three-field event, see benchmarks/README.md): pydantic-core validates
        simple fields fast, and most of an event's cost is its id, its timestamp
        and the object itself.

        :raises TypeError: a field the class does not have, or a required one missing.
        """
        recipe = _RECIPES.get(cls)
        if recipe is None:
            recipe = _RECIPES[cls] = _Recipe(cls)
        values = recipe.template.copy()
        values.update(fields)
        if len(values) != recipe.size or not recipe.required <= fields.keys():
            raise TypeError(recipe.mismatch(cls, fields))
        # The base fields' defaults, written out: a third of the cost is here.
        if "event_id" not in fields:
            values["event_id"] = new_event_id()
        if "occurred_at" not in fields:
            values["occurred_at"] = _now(UTC)
        if "trace_context" not in fields:
            values["trace_context"] = {}
        for name, factory in recipe.factories:
            if name not in fields:
                values[name] = factory()
        event = _new(cls)
        _set_dict(event, values)
        _set_fields_set(event, set(fields))
        _set_extra(event, None)
        _set_private(event, None)
        return event

    def caused(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments that make a new event a consequence of this one.

        ``NextEvent(**event.caused(), field=...)`` keeps the correlation id and the
        trace context and records this event as the cause.
        """
        return {
            "correlation_id": self.correlation_id,
            "causation_id": self.event_id,
            "trace_context": self.trace_context,
            **overrides,
        }


default_registry.register(Event)


class _Recipe:
    """How :meth:`Event.trusted` fills a class's fields: worked out once per class."""

    __slots__ = ("factories", "names", "required", "size", "template")

    def __init__(self, cls: type[Event]) -> None:
        self.template: dict[str, Any] = {}
        self.factories: list[tuple[str, Callable[[], Any]]] = []
        self.required: frozenset[str] = frozenset(
            name for name, info in cls.model_fields.items() if info.is_required()
        )
        self.names: frozenset[str] = frozenset(cls.model_fields)
        self.size = len(self.names)
        for name, info in cls.model_fields.items():
            self.template[name] = None if info.is_required() else info.get_default()
            base = Event.model_fields.get(name) if name in _BASE_FACTORIES else None
            if info.default_factory is not None and (
                base is None or info.default_factory is not base.default_factory
            ):  # not one of the base defaults that trusted() writes out
                self.factories.append((name, info.default_factory))  # type: ignore[arg-type]

    def mismatch(self, cls: type[Event], fields: dict[str, Any]) -> str:
        missing = sorted(self.required - fields.keys())
        unknown = sorted(fields.keys() - self.names)
        return f"{cls.__name__}.trusted(): missing {missing}, unknown {unknown}"


_RECIPES: dict[type[Event], _Recipe] = {}
_BASE_FACTORIES = frozenset({"event_id", "occurred_at", "trace_context"})
