"""The Message Batches endpoints of the loopback Messages API, as the real SDK sees them.

``POST /v1/messages/batches`` (create), ``GET /v1/messages/batches/{id}``
(retrieve), ``GET …/{id}/results`` (the JSONL results file, at the
``results_url`` the batch reports) and ``POST …/{id}/cancel``. A batch is
``in_progress`` for :attr:`FakeBatches.processing_delay` seconds after it is
created, then ``ended``; its ``request_counts`` move from ``processing`` to the
result types only then, as the API documents. Each request is answered by the
server's responder as if it had been sent to ``/v1/messages`` (usage included),
results are listed in reverse order (the API does not promise any order), and
tests script the rest::

    server.batches.processing_delay = 2.0
    server.batches.error_items("research", error_type="api_error")  # once
    server.batches.expire_next()  # the next batch ends with every request expired
    server.batches.refuse_next_create(429)  # the next create gets the API's error
    server.batches.refuse_next_retrieve(500)  # and the next retrieve
    server.batches.created  # each create's custom_ids, in order
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .anthropic_server import RecordedRequest, Reply

__all__ = ["FakeBatches"]

PATH = "/v1/messages/batches"
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ROUTE = re.compile(r"^/v1/messages/batches(?:/(?P<id>[^/?]+)(?:/(?P<action>results|cancel))?)?$")

Ending = Literal["processed", "expired", "canceled"]


@dataclass
class _Batch:
    id: str
    requests: list[Mapping[str, Any]]
    created: float
    created_at: datetime
    ends_as: Ending = "processed"
    cancel_initiated_at: datetime | None = None
    results: list[dict[str, Any]] | None = None
    ended_at: datetime | None = None


@dataclass
class _ItemError:
    match: str
    error_type: str
    times: int


@dataclass
class FakeBatches:
    """Batches created on the fake server; scripted per test (see the module docstring)."""

    answer: Callable[[RecordedRequest], tuple[int, dict[str, Any]]]
    """Answers one request's params as ``/v1/messages`` would: status and JSON body."""
    error_reply: Callable[..., Reply]
    base_url: Callable[[], str]
    processing_delay: float = 0.0
    """Seconds a batch stays ``in_progress`` after it is created."""
    created: list[list[str]] = field(default_factory=list)
    """The custom_ids of each batch created, in order of creation."""
    retrieves: int = 0
    _batches: dict[str, _Batch] = field(default_factory=dict)
    _item_errors: list[_ItemError] = field(default_factory=list)
    _expire: int = 0
    _refusals: list[int] = field(default_factory=list)
    _retrieve_refusals: list[int] = field(default_factory=list)
    _ids: count[int] = field(default_factory=lambda: count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def latest_id(self) -> str:
        """The id of the batch created last."""
        with self._lock:
            return list(self._batches)[-1]

    # -- scripting ---------------------------------------------------------------------

    def error_items(self, match: str, *, error_type: str = "api_error", times: int = 1) -> None:
        """The next ``times`` requests whose custom_id contains ``match`` end ``errored``."""
        with self._lock:
            self._item_errors.append(_ItemError(match, error_type, times))

    def expire_next(self, batches: int = 1) -> None:
        """The next ``batches`` batches created end with every request ``expired``."""
        with self._lock:
            self._expire += batches

    def refuse_next_create(self, status: int = 429) -> None:
        """The next create is refused with the API's error for ``status``."""
        with self._lock:
            self._refusals.append(status)

    def refuse_next_retrieve(self, status: int = 500) -> None:
        """The next retrieve of any batch is refused with the API's error for ``status``."""
        with self._lock:
            self._retrieve_refusals.append(status)

    # -- routing -----------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.split("?")[0].startswith(PATH)

    def route(self, request: RecordedRequest) -> Reply:
        from .anthropic_server import Reply

        matched = _ROUTE.match(request.path.split("?")[0])
        if matched is None:
            return self.error_reply(404, f"fake server: no route {request.path}")
        batch_id, action = matched["id"], matched["action"]
        if batch_id is None:
            if request.method != "POST":
                return self.error_reply(405, "fake server: listing batches is not faked")
            return self._create(request.body)
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            return self.error_reply(404, f"no batch {batch_id}", error_type="not_found_error")
        if action == "results":
            if request.method != "GET":
                return self.error_reply(405, "results: GET only")
            results = self._results(batch)
            if results is None:
                return self.error_reply(400, f"batch {batch_id} has not ended")
            lines = "".join(json.dumps(line) + "\n" for line in results)
            return Reply(body=lines.encode(), headers={"content-type": "application/binary"})
        if action == "cancel":
            with self._lock:
                if self._status(batch) == "in_progress":
                    batch.cancel_initiated_at = datetime.now(UTC)
                    batch.ends_as = "canceled"
        else:
            with self._lock:
                self.retrieves += 1
                refusal = self._retrieve_refusals.pop(0) if self._retrieve_refusals else None
            if refusal is not None:
                return self.error_reply(refusal, "fake refusal")
        return Reply(body=self._object(batch))

    # -- the endpoints -----------------------------------------------------------------

    def _create(self, body: Mapping[str, Any]) -> Reply:
        from .anthropic_server import Reply

        with self._lock:
            refusal = self._refusals.pop(0) if self._refusals else None
        if refusal is not None:
            return self.error_reply(refusal, "fake refusal", headers={"retry-after": "0"})
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return self.error_reply(400, "requests: at least one request is required")
        seen: set[str] = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, Mapping) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                return self.error_reply(400, f"requests.{index}.custom_id: invalid")
            if custom_id in seen:
                return self.error_reply(400, f"requests.{index}.custom_id: duplicate {custom_id}")
            if not isinstance(item.get("params"), Mapping):
                return self.error_reply(400, f"requests.{index}.params: Field required")
            seen.add(custom_id)
        with self._lock:
            batch = _Batch(
                id=f"msgbatch_fake_{next(self._ids):04d}",
                requests=list(requests),
                created=time.monotonic(),
                created_at=datetime.now(UTC),
            )
            if self._expire:
                self._expire -= 1
                batch.ends_as = "expired"
            self._batches[batch.id] = batch
            self.created.append([item["custom_id"] for item in requests])
        return Reply(body=self._object(batch))

    def _status(self, batch: _Batch) -> Literal["in_progress", "ended"]:
        """A cancelled batch ends at once (the API passes through ``canceling`` first)."""
        if batch.results is not None or batch.cancel_initiated_at is not None:
            return "ended"
        if time.monotonic() - batch.created < self.processing_delay:
            return "in_progress"
        return "ended"

    def _results(self, batch: _Batch) -> list[dict[str, Any]] | None:
        """The batch's results, worked out once when it is first seen ended."""
        with self._lock:
            if self._status(batch) != "ended":
                return None
            if batch.results is None:
                batch.ended_at = datetime.now(UTC)
                batch.results = [self._result(item, batch.ends_as) for item in batch.requests]
                batch.results.reverse()
            return batch.results

    def _result(self, item: Mapping[str, Any], ends_as: Ending) -> dict[str, Any]:
        from .anthropic_server import RecordedRequest

        custom_id = item["custom_id"]
        if ends_as != "processed":
            return {"custom_id": custom_id, "result": {"type": ends_as}}
        for scripted in self._item_errors:
            if scripted.times > 0 and scripted.match in custom_id:
                scripted.times -= 1
                return _errored(custom_id, scripted.error_type, "fake item error")
        params = item["params"]
        status, body = self.answer(RecordedRequest("POST", "/v1/messages", {}, params))
        if status != 200:
            error = body.get("error", {})
            return _errored(custom_id, error.get("type", "api_error"), error.get("message", ""))
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": body}}

    def _object(self, batch: _Batch) -> dict[str, Any]:
        """The ``message_batch`` object, as the API returns it."""
        status = self._status(batch)
        total = len(batch.requests)
        counts = {"processing": total, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        results = self._results(batch) if status == "ended" else None
        if results is not None:
            counts["processing"] = 0
            for line in results:
                counts[line["result"]["type"]] += 1
        ended = status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.created_at + timedelta(hours=24)),
            "ended_at": _iso(batch.ended_at) if ended and batch.ended_at else None,
            "archived_at": None,
            "cancel_initiated_at": _iso(batch.cancel_initiated_at),
            "results_url": f"{self.base_url()}{PATH}/{batch.id}/results" if ended else None,
        }


def _errored(custom_id: str, error_type: str, message: str) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "result": {
            "type": "errored",
            "error": {
                "type": "error",
                "error": {"type": error_type, "message": message},
                "request_id": None,
            },
        },
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None
