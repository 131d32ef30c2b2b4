"""A loopback HTTP server that speaks the Anthropic Messages API, scripted by tests.

The real ``anthropic`` SDK talks to it through ``base_url``, so a test exercises
the SDK's own request building, response parsing and error classes. The server
runs in a background thread (it works the same under asyncio and trio tests)::

    with FakeAnthropicServer(api_key="sk-test") as server:
        server.enqueue(
            Reply.json_answer({"ok": True}, usage=TokenCounts(cache_read_input_tokens=900)),
            Reply.error(429, headers={"retry-after": "7"}),
            Reply.json_answer({"ok": True}).after(2.0),  # slower than a 0.3 s client timeout
        )
        client = AsyncAnthropic(api_key="sk-test", base_url=server.base_url, max_retries=0)
        ...
        first = server.requests[0]
        assert first.api_key == "sk-test"
        assert first.body["system"][-1]["cache_control"] == {"type": "ephemeral"}

Scripted replies answer requests in order, one each. When none is left the
``responder`` answers (``pipeline_responder()`` answers all three salesbus
steps validly, for tests that run whole pipelines); without one the request gets
a 500 saying so, so a test that scripts too little fails loudly. Requests the
real API would reject outright (wrong path, wrong key when ``api_key`` is set, a
body without ``model``/``max_tokens``/``messages``) get the API's error and use
no scripted reply.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from types import TracebackType
from typing import Any

from salesbus.agents.providers.anthropic import AnalysisReply, DraftReply, ResearchReply

from .anthropic_batches import FakeBatches
from .anthropic_limits import CacheModel, RateLimits, count_tokens

__all__ = [
    "ERROR_TYPES",
    "CacheModel",
    "FakeAnthropicServer",
    "RateLimits",
    "RecordedRequest",
    "Reply",
    "Responder",
    "TokenCounts",
    "analysis_answer",
    "draft_answer",
    "pipeline_responder",
    "research_answer",
]

ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""``error.type`` of the API's error body for each status (others: ``api_error``)."""


@dataclass(frozen=True)
class TokenCounts:
    """The ``usage`` object of a message, in the API's field names."""

    input_tokens: int = 120
    output_tokens: int = 80
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP response. Build with the class methods; ``.after(s)`` delays it."""

    status: int = 200
    body: Mapping[str, Any] | bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (interrupted when the server stops)."""

    @classmethod
    def message(
        cls,
        content: Sequence[Mapping[str, Any]],
        *,
        stop_reason: str = "end_turn",
        usage: TokenCounts | None = None,
        model: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """A successful Messages response; ``model=None`` echoes the request's model.

        ``usage=None`` reports what the API would: the prompt's tokens, split into
        cache writes, cache reads and the rest by the server's :class:`CacheModel`.
        """
        body = {
            "id": None,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [dict(block) for block in content],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage.as_json() if usage is not None else None,
        }
        return cls(body=body, headers=dict(headers or {}))

    @classmethod
    def text(cls, text: str, **options: Any) -> Reply:
        """A message whose content is one text block."""
        return cls.message([{"type": "text", "text": text}], **options)

    @classmethod
    def json_answer(cls, payload: Any, **options: Any) -> Reply:
        """A structured-output answer: ``payload`` as JSON in one text block."""
        return cls.text(json.dumps(payload), **options)

    @classmethod
    def tool_use(
        cls,
        name: str,
        tool_input: Mapping[str, Any],
        *,
        tool_use_id: str = "toolu_fake_1",
        **options: Any,
    ) -> Reply:
        """A message that calls tool ``name`` with ``tool_input``."""
        block = {"type": "tool_use", "id": tool_use_id, "name": name, "input": dict(tool_input)}
        return cls.message([block], stop_reason="tool_use", **options)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An error response with the API's ``{"type": "error", "error": {...}}`` body."""
        kind = error_type or ERROR_TYPES.get(status, "api_error")
        body = {
            "type": "error",
            "error": {"type": kind, "message": message or f"fake {kind}"},
            "request_id": None,
        }
        return cls(status=status, body=body, headers=dict(headers or {}))

    def after(self, seconds: float) -> Reply:
        """This reply, sent ``seconds`` after the request arrives."""
        return replace(self, delay=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, as the SDK sent it."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: Mapping[str, Any]
    """The JSON body (empty when it was not a JSON object)."""

    @property
    def api_key(self) -> str | None:
        """The credential sent: ``x-api-key``, else the ``Authorization: Bearer`` token.

        anthropic 2.x sends an API key as a bearer token; older SDKs used ``x-api-key``.
        """
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def system_blocks(self) -> list[Mapping[str, Any]]:
        system = self.body.get("system")
        if isinstance(system, str):
            return [{"type": "text", "text": system}]
        return list(system) if isinstance(system, list) else []

    @property
    def messages(self) -> list[Mapping[str, Any]]:
        messages = self.body.get("messages")
        return list(messages) if isinstance(messages, list) else []

    @property
    def output_schema(self) -> Mapping[str, Any] | None:
        """``output_config.format.schema``: the JSON schema a structured answer must match."""
        output_config = self.body.get("output_config") or {}
        schema = (output_config.get("format") or {}).get("schema")
        return schema if isinstance(schema, Mapping) else None

    def system_text(self) -> str:
        return "\n".join(str(block.get("text", "")) for block in self.system_blocks)

    def message_text(self, role: str | None = None) -> str:
        """The text of every message (of ``role``, when given), joined."""
        return "\n".join(
            text
            for message in self.messages
            if role is None or message.get("role") == role
            for text in _texts(message.get("content"))
        )

    def text(self) -> str:
        """Everything the prompt says: system and messages."""
        return self.system_text() + "\n" + self.message_text()


def _texts(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, Mapping):
                if isinstance(block.get("text"), str):
                    yield block["text"]
                yield from _texts(block.get("content"))


Responder = Callable[[RecordedRequest], Reply]
"""Answers a request when no scripted reply is left."""


class FakeAnthropicServer:
    """``POST /v1/messages`` on 127.0.0.1, a free port, answered from a script.

    The Message Batches endpoints are :attr:`batches`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        responder: Responder | None = None,
        rate_limits: RateLimits | None = None,
        cache: CacheModel | None = None,
    ) -> None:
        """:param api_key: when set, requests with another key get the API's 401.
        :param rate_limits: sliding-window limits; every answer then carries the
            ``anthropic-ratelimit-*`` headers and a request over a limit gets a 429.
        :param cache: the prompt cache behind computed usage (default: 4,096-token minimum).
        """
        self.api_key = api_key
        self.responder = responder
        self.rate_limits = rate_limits
        self.cache = cache if cache is not None else CacheModel()
        self._script: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = count(1)
        self._stopping = threading.Event()
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.batches = FakeBatches(self._batch_item, Reply.error, lambda: self.base_url)
        """The Message Batches endpoints (``anthropic_batches``), answered by ``responder``."""

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeAnthropicServer:
        if self._http is not None:
            raise RuntimeError("FakeAnthropicServer is already running")
        self._stopping.clear()
        self._http = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed replies, drop open connections and join every thread."""
        http, thread = self._http, self._thread
        if http is None or thread is None:
            return
        self._stopping.set()
        http.shutdown()
        http.drop_connections()
        http.server_close()
        thread.join()
        self._http = self._thread = None

    def __enter__(self) -> FakeAnthropicServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("FakeAnthropicServer is not running")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- script and record -------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests and unused replies."""
        with self._lock:
            self._script.clear()
            self._requests.clear()

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            rejection = self._rejection(request)
            if rejection is not None:
                return rejection
        if self.batches.handles(request.path):
            return self.batches.route(request)
        limit_headers: dict[str, str] = {}
        if self.rate_limits is not None:
            prompt_tokens = sum(count_tokens(text) for text in _texts(request.body.get("system")))
            prompt_tokens += count_tokens(request.message_text())
            wait, limit_headers = self.rate_limits.admit(prompt_tokens)
            if wait > 0:
                return Reply.error(
                    429, "Number of requests has exceeded your rate limit", headers=limit_headers
                )
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            reply = scripted
        elif self.responder is not None:
            reply = self.responder(request)
        else:
            reply = Reply.error(500, "fake server: no scripted reply left for this request")
        if limit_headers:
            reply = replace(reply, headers={**limit_headers, **reply.headers})
        return reply

    def _rejection(self, request: RecordedRequest) -> Reply | None:
        batches = self.batches.handles(request.path)
        messages = request.method == "POST" and request.path.split("?")[0] == "/v1/messages"
        if not (batches or messages):
            return Reply.error(404, f"fake server: no route {request.method} {request.path}")
        if self.api_key is not None and request.api_key != self.api_key:
            return Reply.error(401, "invalid x-api-key")
        if batches:
            return None
        problem = _shape_problem(request.body)
        return Reply.error(400, problem) if problem else None

    def _batch_item(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        """One request of a batch, answered as ``/v1/messages`` would: status and body."""
        problem = _shape_problem(request.body)
        if problem:
            reply = Reply.error(400, problem)
        elif self.responder is not None:
            reply = self.responder(request)
        else:
            reply = Reply.error(500, "fake server: batch requests need a responder")
        body, _ = self._render(reply, request)
        return reply.status, json.loads(body)

    def _render(self, reply: Reply, request: RecordedRequest) -> tuple[bytes, dict[str, str]]:
        number = next(self._ids)
        headers = {"content-type": "application/json", "request-id": f"req_fake_{number}"}
        headers.update(reply.headers)
        if isinstance(reply.body, bytes):
            return reply.body, headers
        body = dict(reply.body)
        if body.get("type") == "message":
            body["id"] = body.get("id") or f"msg_fake_{number}"
            body["model"] = body.get("model") or request.model
            if body.get("usage") is None:
                body["usage"] = self._usage(request, body)
        elif body.get("type") == "error":
            body["request_id"] = headers["request-id"]
        return json.dumps(body).encode(), headers

    def _usage(self, request: RecordedRequest, body: Mapping[str, Any]) -> dict[str, int]:
        usage = self.cache.usage(request.body)
        usage["output_tokens"] = sum(count_tokens(text) for text in _texts(body.get("content")))
        if self.rate_limits is not None:
            self.rate_limits.spend_output(usage["output_tokens"])
        return usage


def _shape_problem(body: Mapping[str, Any]) -> str | None:
    """What the real API would reject before any model runs, or ``None``."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "max_tokens: must be a positive integer"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in {"user", "assistant"}:
            return f"messages.{index}.role: must be 'user' or 'assistant'"
        if not message.get("content"):
            return f"messages.{index}.content: must not be empty"
    return None


class _HTTPServer(ThreadingHTTPServer):
    """Tracks its connections so that :meth:`drop_connections` can end idle keep-alives."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeAnthropicServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self._fake
        length = int(self.headers.get("content-length") or 0)
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=_json_object(self.rfile.read(length)),
        )
        reply = fake._answer(request)
        if reply.delay and fake._stopping.wait(reply.delay):
            self.close_connection = True
            return
        body, headers = fake._render(reply, request)
        try:
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    @property
    def _fake(self) -> FakeAnthropicServer:
        assert isinstance(self.server, _HTTPServer)
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read :attr:`FakeAnthropicServer.requests` instead."""


def _json_object(raw: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- valid answers for salesbus's own prompts ----------------------------------------


def research_answer(*, with_website_facts: bool = True) -> dict[str, Any]:
    """A valid research answer; its website facts need a page to have been sent."""
    facts: list[dict[str, Any]] = [
        {
            "topic": "customers",
            "text": "The company sells to mid-sized logistics firms.",
            "source": "model",
        }
    ]
    if with_website_facts:
        facts.insert(
            0,
            {
                "topic": "product",
                "text": "The company builds route-planning software for delivery fleets.",
                "source": "website",
            },
        )
    return {
        "industry": "Logistics software",
        "location": "Berlin, Germany",
        "description": "Route-planning software for delivery fleets.",
        "technologies": ["Kubernetes", "PostgreSQL"],
        "recent_news": [],
        "facts": facts,
    }


def analysis_answer(
    fact_ids: Sequence[str] = ("f1",), *, attributes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A valid analysis answer citing ``fact_ids``; by default a logistics company of 450
    in Germany, using Kubernetes, that mentions no keyword."""
    cited = list(fact_ids)
    if attributes is None:
        attributes = {
            "industry": {"value": "Logistics", "fact_ids": cited},
            "headcount": {"value": 450, "fact_ids": cited},
            "location": {"value": "Germany", "fact_ids": cited},
            "keywords": [],
            "technologies": [{"value": "Kubernetes", "fact_ids": cited}],
        }
    return {
        "attributes": dict(attributes),
        "fit": "A mid-sized logistics operator that plans routes by hand.",
        "pain_points": [
            {
                "category": "operations",
                "description": "Manual route planning does not scale.",
                "severity": "high",
                "evidence": "Fleet growth stated on the website.",
                "potential_solution": "Automated dispatch.",
                "fact_ids": cited,
            }
        ],
        "opportunities": [
            {
                "category": "expansion",
                "description": "New depots need planning from day one.",
                "priority": "medium",
                "evidence": "Expansion stated on the website.",
                "potential_value": "Faster depot launches.",
                "fact_ids": cited,
            }
        ],
        "industry_insights": ["Delivery margins are thin."],
        "talking_points": [{"text": "Your fleet growth", "fact_ids": cited}],
        "likely_objections": [{"objection": "We built our own.", "response": "Keep it; add us."}],
        "recommended_approach": "Lead with dispatch time saved.",
        "recommended_channel": "email",
        "confidence": 0.7,
    }


def draft_answer(fact_ids: Sequence[str] = ("f1",)) -> dict[str, Any]:
    """A valid draft answer (email, then LinkedIn) citing ``fact_ids``."""
    cited = list(fact_ids)
    return {
        "strategy": "pain-point-focused",
        "messages": [
            {
                "channel": "email",
                "kind": "initial",
                "day_offset": 0,
                "subject": "Dispatch at your new depots",
                "body": "Hi Dana,\n\nShort note about dispatch.\n\nBest, Sam\n"
                "Reply 'stop' and I will not write again.",
                "tone": "consultative",
                "personalization": [{"text": "new depots", "fact_ids": cited}],
                "call_to_action": "Would a 20-minute call next week be useful?",
            },
            {
                "channel": "linkedin",
                "kind": "connection-note",
                "day_offset": 3,
                "subject": None,
                "body": "Hi Dana, following your depot news. Sam",
                "tone": "friendly",
                "personalization": [{"text": "depot news", "fact_ids": cited}],
                "call_to_action": None,
            },
        ],
        "sequence": [
            {"day": 0, "channel": "email", "message_index": 0},
            {"day": 3, "channel": "linkedin", "message_index": 1},
        ],
    }


def pipeline_responder(
    fact_ids: Sequence[str] = ("f1",), *, usage: TokenCounts | None = None
) -> Responder:
    """Answers each salesbus step validly, told apart by the requested output schema.

    ``f1`` (the company's name) is in every profile, so the default citations hold.
    """

    def respond(request: RecordedRequest) -> Reply:
        title = (request.output_schema or {}).get("title")
        if title == ResearchReply.__name__:
            has_page = "<website_content url=" in request.message_text("user")
            return Reply.json_answer(research_answer(with_website_facts=has_page), usage=usage)
        if title == AnalysisReply.__name__:
            return Reply.json_answer(analysis_answer(fact_ids), usage=usage)
        if title == DraftReply.__name__:
            return Reply.json_answer(draft_answer(fact_ids), usage=usage)
        return Reply.error(400, f"fake server: no canned answer for output schema {title!r}")

    return respond
