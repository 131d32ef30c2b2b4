"""Fetching a company's website safely and reading its text.

Research fetches whatever website a lead list names, so every URL is treated as
hostile: only http and https, bounded time and size, a bounded redirect chain,
and no request to a private, loopback or otherwise non-public address — checked
for every address a host resolves to, on every redirect hop, and pinned so that
the connection goes to the address that was checked (a second DNS answer cannot
swap in ``127.0.0.1`` between the check and the connect).

What comes back is a :class:`WebPage`: title, meta description, the readable
main text and the links, small enough to hand to a language model. The body is
decompressed under the size cap (:mod:`.web_decode`) and parsed in a worker
process within the same deadline (:mod:`.page_text`): a hostile page costs
this process neither memory nor event-loop time.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType

import anyio
import anyio.to_process
import httpx
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

from .errors import WebsiteError
from .page_text import PageContent, PageTooComplex, TextLimits, extract_page, read_page_in_worker
from .web_decode import ACCEPT_ENCODING, BodyError, read_body

__all__ = [
    "USER_AGENT",
    "FetchSettings",
    "IPAddress",
    "PageContent",
    "Resolver",
    "WebPage",
    "WebsiteFetcher",
    "address_refusal",
    "extract_page",
    "normalize_url",
    "resolve_host",
    "site_url",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""Turns a host name and port into the addresses to connect to."""

USER_AGENT = "salesbus/0.1 (B2B company research; reads one public page per company)"

_SCHEMES = frozenset({"http", "https"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class WebPage(BaseModel):
    """The readable part of one fetched page, bounded in size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """The URL asked for."""
    final_url: str
    """Where redirects ended."""
    status: int
    title: str | None = None
    description: str | None = None
    """The page's meta description, if any."""
    text: str = ""
    """Main text, whitespace-normalised and cut to the fetcher's text limit."""
    links: list[str] = Field(default_factory=list)
    fetched_at: datetime
    truncated: bool = False


class FetchSettings(BaseModel):
    """The bounds one fetch stays within; the defaults suit a public company homepage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    """Longest wait for the next bytes of a response."""
    deadline: float = Field(default=20.0, gt=0)
    """The whole fetch, every redirect hop included: a server that drips a byte just
    inside the read timeout still ends here."""
    max_bytes: int = Field(default=2_000_000, gt=0)
    """Body bytes read (after decompression); the rest is never downloaded."""
    max_redirects: int = Field(default=5, ge=0)
    max_text_chars: int = Field(default=20_000, gt=0)
    max_links: int = Field(default=100, ge=0)
    max_depth: int = Field(default=500, gt=0)
    """Deepest nesting of elements a page may have; a deeper one is skipped with a warning."""
    max_tags: int = Field(default=60_000, gt=0)
    """Most tags a page may have; a larger one is skipped with a warning."""
    parsers: int = Field(default=2, gt=0)
    """Worker processes parsing pages at once (per fetcher)."""
    allow_private: bool = False
    """Allow every address, loopback and private ranges included (tests, intranets)."""
    allow_networks: tuple[IPvAnyNetwork, ...] = ()
    """Networks allowed even though they are not public, e.g. ``127.0.0.1/32``."""
    user_agent: str = USER_AGENT


class WebsiteFetcher:
    """Fetches one page per call within :class:`FetchSettings`; share one per process.

    Use as ``async with WebsiteFetcher() as fetcher:`` or call :meth:`aclose`.
    Works under asyncio and trio.
    """

    def __init__(
        self, settings: FetchSettings | None = None, *, resolver: Resolver | None = None
    ) -> None:
        self.settings = settings or FetchSettings()
        self._resolve = resolver or resolve_host
        self._parsers: anyio.CapacityLimiter | None = None
        self._limits = TextLimits(
            max_text_chars=self.settings.max_text_chars,
            max_links=self.settings.max_links,
            max_depth=self.settings.max_depth,
            max_tags=self.settings.max_tags,
        )
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                self.settings.read_timeout, connect=self.settings.connect_timeout
            ),
            follow_redirects=False,
            # Environment proxies would connect somewhere other than the checked address.
            trust_env=False,
            # Requests go to pinned IP addresses; a kept-alive connection could be reused
            # for another host on the same address whose TLS name was never verified.
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                # Only what read_body can decompress under its cap.
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    async def __aenter__(self) -> WebsiteFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url_or_domain: str) -> WebPage:
        """The page at ``url_or_domain`` (a bare domain means ``https://domain``).

        :raises WebsiteError: with a short reason — refused address, timeout, too
            many redirects, an HTTP error status, a body that is not HTML, an
            encoding that cannot be read, a page too complex to parse.
        """
        url = normalize_url(url_or_domain)
        try:
            with anyio.fail_after(self.settings.deadline):
                return await self._follow(url)
        except TimeoutError:
            raise WebsiteError(url, f"timed out after {self.settings.deadline:g}s") from None
        except httpx.HTTPError as exc:
            raise WebsiteError(url, self._describe(exc)) from exc
        except (BodyError, PageTooComplex) as exc:
            raise WebsiteError(url, str(exc)) from exc
        except anyio.BrokenWorkerProcess as exc:
            # Killed from outside (the OOM killer, say): the page is not read, the run goes on.
            raise WebsiteError(url, "the page parser process died") from exc

    async def _follow(self, url: str) -> WebPage:
        """Follow redirects by hand, so that every hop's addresses are checked."""
        target = httpx.URL(url)
        for _ in range(self.settings.max_redirects + 1):
            async with self._open(url, target) as response:
                next_target = _redirect_target(url, target, response)
                if next_target is None:
                    return await self._read_page(url, target, response)
            target = next_target
        raise WebsiteError(url, f"too many redirects (more than {self.settings.max_redirects})")

    @asynccontextmanager
    async def _open(self, url: str, target: httpx.URL) -> AsyncIterator[httpx.Response]:
        """A streamed response from ``target``, tried on each checked address in turn."""
        *others, last = await self._checked_addresses(url, target)
        response: httpx.Response | None = None
        for address in others:
            # An address that refuses or does not answer in the connect timeout is
            # one of several: the next may answer, within the same deadline.
            try:
                response = await self._client.send(self._request(target, address), stream=True)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue
        if response is None:
            response = await self._client.send(self._request(target, last), stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _checked_addresses(self, url: str, target: httpx.URL) -> list[IPAddress]:
        """Every address ``target`` resolves to, or WebsiteError if any of them is refused."""
        if target.scheme not in _SCHEMES:
            raise WebsiteError(url, f"unsupported scheme: {target.scheme}")
        host = target.raw_host.decode("ascii")
        if not host:
            raise WebsiteError(url, "no host name")
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            addresses = list(await self._resolve(host, port))
        except OSError:
            addresses = []
        if not addresses:
            raise WebsiteError(url, f"cannot resolve {host}")
        for address in addresses:
            refusal = self._refusal(address)
            if refusal:
                raise WebsiteError(url, f"refused: {refusal}")
        return addresses

    def _refusal(self, address: IPAddress) -> str | None:
        if self.settings.allow_private:
            return None
        if any(address in network for network in self.settings.allow_networks):
            return None
        return address_refusal(address)

    def _request(self, target: httpx.URL, address: IPAddress) -> httpx.Request:
        """A GET for ``target`` whose connection goes to ``address``.

        The URL carries the checked address, so httpx never resolves the name
        again; the Host header and TLS (SNI and certificate check) keep the name.
        """
        return self._client.build_request(
            "GET",
            target.copy_with(host=str(address)),
            headers={"Host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": target.raw_host.decode("ascii")},
        )

    async def _read_page(self, url: str, final: httpx.URL, response: httpx.Response) -> WebPage:
        """The page from a final response: a success, and HTML (or of no stated type)."""
        if not response.is_success:
            raise WebsiteError(url, f"HTTP {response.status_code}")
        media_type = _media_type(response)
        if media_type and media_type not in _HTML_TYPES:
            raise WebsiteError(url, f"not HTML: {media_type}")
        body, body_truncated = await read_body(
            response.aiter_raw(),
            response.headers.get("content-encoding", ""),
            self.settings.max_bytes,
        )
        content = await self._parse(body, response.charset_encoding, str(final))
        return WebPage(
            url=url,
            final_url=str(final),
            status=response.status_code,
            title=content.title,
            description=content.description,
            text=content.text,
            links=content.links,
            fetched_at=datetime.now(UTC),
            truncated=body_truncated or content.text_truncated,
        )

    async def _parse(self, body: bytes, charset: str | None, base_url: str) -> PageContent:
        """The page's content, read in a worker process that is killed if the fetch's
        deadline passes meanwhile."""
        if self._parsers is None:
            self._parsers = anyio.CapacityLimiter(self.settings.parsers)
        return await anyio.to_process.run_sync(
            read_page_in_worker,
            body,
            charset,
            base_url,
            self._limits,
            cancellable=True,
            limiter=self._parsers,
        )

    def _describe(self, exc: httpx.HTTPError) -> str:
        """A short reason for a transport failure, naming the limit that was hit."""
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connection timed out after {self.settings.connect_timeout:g}s"
        if isinstance(exc, httpx.PoolTimeout):
            return "timed out waiting for a free connection"
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out after {self.settings.read_timeout:g}s"
        if isinstance(exc, httpx.ConnectError):
            return f"could not connect: {exc}" if str(exc) else "could not connect"
        if isinstance(exc, httpx.RemoteProtocolError) and "buffer too long" in str(exc):
            return "response headers too large (over 100 KB)"
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        # An IPv6 scope ("fe80::1%eth0") cannot go into a URL; scoped addresses are
        # link-local, refused unless private addresses are allowed.
        literal = str(sockaddr[0]).split("%", 1)[0]
        addresses.setdefault(ipaddress.ip_address(literal), None)
    return list(addresses)


_ADDRESS_KINDS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("an unspecified", lambda address: address.is_unspecified),
    ("a loopback", lambda address: address.is_loopback),
    ("a link-local", lambda address: address.is_link_local),
    ("a multicast", lambda address: address.is_multicast),
    ("a reserved", lambda address: address.is_reserved),
    ("a private", lambda address: address.is_private),
)


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is no place to fetch a public website from, or ``None``.

    An IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:127.0.0.1``,
    6to4 ``2002:7f00:1::``) is judged by the IPv4 address it reaches.
    """
    embedded = _embedded_ipv4(address)
    reached = embedded or address
    shown = f"{address} ({embedded})" if embedded else str(address)
    for kind, applies in _ADDRESS_KINDS:
        if applies(reached):
            return f"{shown} is {kind} address"
    if not reached.is_global:
        return f"{shown} is not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def normalize_url(url_or_domain: str) -> str:
    """An absolute http(s) URL for a URL or a bare domain (``acme.com`` → ``https://acme.com``).

    :raises WebsiteError: another scheme, no host, or not a URL at all.
    """
    raw = url_or_domain.strip()
    try:
        url = httpx.URL(raw if "://" in raw else f"https://{raw}")
    except httpx.InvalidURL as exc:
        raise WebsiteError(raw, "not a valid URL") from exc
    if url.scheme not in _SCHEMES:
        raise WebsiteError(raw, f"unsupported scheme: {url.scheme}")
    if not url.host:
        raise WebsiteError(raw, "no host name")
    return str(url)


def site_url(company_domain_or_website: str | None) -> str | None:
    """The URL to fetch for a lead row's domain or website, or ``None`` if it names no site."""
    if not company_domain_or_website or not company_domain_or_website.strip():
        return None
    try:
        return normalize_url(company_domain_or_website)
    except WebsiteError:
        return None


def _redirect_target(url: str, current: httpx.URL, response: httpx.Response) -> httpx.URL | None:
    """Where a redirect response points, resolved against ``current``; ``None`` if not one."""
    location: str | None = response.headers.get("location")
    if response.status_code not in _REDIRECT_STATUSES or not location:
        return None
    try:
        return current.join(location)
    except httpx.InvalidURL as exc:
        raise WebsiteError(url, "invalid redirect location") from exc


def _media_type(response: httpx.Response) -> str:
    """The response's media type, lower-cased, without parameters (``""`` when absent)."""
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower()
