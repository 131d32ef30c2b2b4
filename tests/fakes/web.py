"""A real HTTP server on 127.0.0.1 that serves fixture pages to code under test.

It runs in a background thread, so it answers the same way whichever event loop
(asyncio or trio) the test drives. Each path maps to a :class:`Page`; every
request is recorded, so a test can assert what was (or was not) asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["FakeWebsite", "Page", "RecordedRequest"]


@dataclass
class Page:
    """One response: status, headers and body, optionally slow or very large."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (cut short when the server stops)."""
    repeat: int = 1
    """The body is sent this many times: a huge response without a huge buffer."""
    drip: float = 0.0
    """Seconds to wait between the repeats of the body: a slow drip."""


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]


_NOT_FOUND = Page(
    body=b"<html><title>Not found</title><body>No such page</body></html>", status=404
)


class FakeWebsite:
    """``with FakeWebsite() as site:`` serves ``site.pages`` on ``site.url(path)``."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def html(self, path: str, html: str, **page: Any) -> str:
        """Serve ``html`` at ``path``; returns the page's URL."""
        self.pages[path] = Page(body=html.encode(), **page)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        """Redirect ``path`` to ``location``; returns the redirecting URL."""
        self.pages[path] = Page(status=status, content_type=None, headers={"Location": location})
        return self.url(path)

    def __enter__(self) -> FakeWebsite:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, website: FakeWebsite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.website = website

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-body (a size cap, a timeout) is expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        website = self.server.website
        website.requests.append(RecordedRequest(self.path, dict(self.headers.items())))
        page = website.pages.get(self.path, _NOT_FOUND)
        if page.delay and website.stopping.wait(page.delay):
            return
        self.send_response(page.status)
        if page.content_type:
            self.send_header("Content-Type", page.content_type)
        for name, value in page.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(page.body) * page.repeat))
        self.end_headers()
        for _ in range(page.repeat):
            if website.stopping.is_set() or (page.drip and website.stopping.wait(page.drip)):
                return
            self.wfile.write(page.body)
            if page.drip:
                self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
