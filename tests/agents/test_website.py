"""The website fetcher against real HTTP servers on 127.0.0.1, and its pure helpers."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import Iterator, Sequence

import pytest

from salesbus.agents.errors import WebsiteError
from salesbus.agents.website import (
    FetchSettings,
    IPAddress,
    Resolver,
    WebPage,
    WebsiteFetcher,
    address_refusal,
    extract_page,
    normalize_url,
    site_url,
)
from tests.fakes.web import FakeWebsite, Page

pytestmark = pytest.mark.anyio

LOOPBACK_ALLOWED = FetchSettings(allow_private=True)

HOMEPAGE = """<!doctype html>
<html>
<head>
  <title>  Acme   Robotics
  </title>
  <meta name="description" content="Warehouse robots for mid-sized retailers.">
  <style>body { color: red; }</style>
  <script>var trackingSecret = "do-not-read";</script>
</head>
<body>
  <nav><a href="/about">About us</a> <a href="/careers#open">Careers</a></nav>
  <main>
    <h1>Robots that pick</h1>
    <p>Acme builds   picking robots
       for warehouses.</p>
    <p>Customers&nbsp;include <a href="https://example.org/case">Example Corp</a>.</p>
    <a href="mailto:sales@acme.test">Email us</a>
    <a href="javascript:void(0)">Menu</a>
    <script>console.log("inline script text");</script>
  </main>
  <footer>Copyright Acme Footer Ltd</footer>
</body>
</html>"""


@pytest.fixture
def website() -> Iterator[FakeWebsite]:
    with FakeWebsite() as site:
        yield site


async def fetch(url: str, settings: FetchSettings = LOOPBACK_ALLOWED) -> WebPage:
    async with WebsiteFetcher(settings) as fetcher:
        return await fetcher.fetch(url)


async def fetch_error(url: str, settings: FetchSettings = LOOPBACK_ALLOWED) -> WebsiteError:
    with pytest.raises(WebsiteError) as caught:
        await fetch(url, settings)
    return caught.value


def static_resolver(answers: dict[str, list[str]]) -> Resolver:
    """A resolver that knows only ``answers`` (host → addresses), for DNS-free tests."""

    async def resolve(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(address) for address in answers[host]]

    return resolve


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- reading a page ----------------------------------------------------------------


async def test_reads_title_description_and_main_text_without_scripts_styles_or_chrome(
    website: FakeWebsite,
) -> None:
    url = website.html("/", HOMEPAGE)

    page = await fetch(url)

    assert page.status == 200
    assert page.url == page.final_url == url
    assert page.title == "Acme Robotics"
    assert page.description == "Warehouse robots for mid-sized retailers."
    assert page.text == (
        "Robots that pick Acme builds picking robots for warehouses. "
        "Customers include Example Corp . Email us Menu"
    )
    for absent in ("trackingSecret", "inline script", "color: red", "About us", "Footer"):
        assert absent not in page.text
    assert not page.truncated


async def test_links_are_absolute_http_links_including_navigation(website: FakeWebsite) -> None:
    url = website.html("/", HOMEPAGE)

    page = await fetch(url)

    assert page.links == [
        website.url("/about"),
        website.url("/careers"),
        "https://example.org/case",
    ]


async def test_sends_a_user_agent_that_names_salesbus(website: FakeWebsite) -> None:
    url = website.html("/", HOMEPAGE)

    await fetch(url)

    assert "salesbus" in website.requests[-1].headers["User-Agent"]


async def test_decodes_the_charset_the_server_declares(website: FakeWebsite) -> None:
    website.pages["/"] = Page(
        body="<title>Café Müller</title><p>Crème brûlée</p>".encode("latin-1"),
        content_type="text/html; charset=iso-8859-1",
    )

    page = await fetch(website.url("/"))

    assert page.title == "Café Müller"
    assert page.text == "Crème brûlée"


async def test_text_is_cut_at_the_text_limit_on_a_word_boundary(website: FakeWebsite) -> None:
    url = website.html("/", "<p>" + "lorem ipsum " * 100 + "</p>")

    page = await fetch(url, FetchSettings(allow_private=True, max_text_chars=50))

    assert len(page.text) <= 50
    assert page.text.endswith(("lorem", "ipsum"))
    assert page.truncated


async def test_stops_reading_a_body_past_the_size_cap(website: FakeWebsite) -> None:
    head = b"<html><head><title>Huge</title></head><body><p>start</p>"
    website.pages["/"] = Page(body=head + b"<p>" + b"x" * 65_536 + b"</p>", repeat=2_000)
    settings = FetchSettings(allow_private=True, max_bytes=200_000)
    started = time.monotonic()

    page = await fetch(website.url("/"), settings)

    assert page.truncated
    assert page.title == "Huge"
    assert len(page.text) <= settings.max_text_chars
    assert time.monotonic() - started < 5, "a 130 MB body was read instead of cut off"


# -- redirects ---------------------------------------------------------------------


async def test_follows_redirects_and_reports_where_they_ended(website: FakeWebsite) -> None:
    website.html("/new", "<title>New home</title>")
    website.redirect("/old", "/middle", status=301)
    start = website.redirect("/middle", website.url("/new"), status=307)

    page = await fetch(website.url("/old"))

    assert start != page.final_url
    assert page.url == website.url("/old")
    assert page.final_url == website.url("/new")
    assert page.title == "New home"


async def test_a_redirect_loop_fails(website: FakeWebsite) -> None:
    website.redirect("/a", "/b")
    website.redirect("/b", "/a")

    error = await fetch_error(website.url("/a"))

    assert error.reason == "too many redirects (more than 5)"
    assert len(website.requests) == 6


async def test_the_redirect_limit_is_a_setting(website: FakeWebsite) -> None:
    website.html("/3", "<title>End</title>")
    website.redirect("/2", "/3")
    website.redirect("/1", "/2")

    error = await fetch_error(website.url("/1"), FetchSettings(allow_private=True, max_redirects=1))
    page = await fetch(website.url("/1"), FetchSettings(allow_private=True, max_redirects=2))

    assert error.reason == "too many redirects (more than 1)"
    assert page.title == "End"


async def test_a_redirect_to_a_non_public_address_is_refused(website: FakeWebsite) -> None:
    settings = FetchSettings(allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))
    website.redirect("/", f"http://127.0.0.2:{website.port}/admin")

    error = await fetch_error(website.url("/"), settings)

    assert error.reason == "refused: 127.0.0.2 is a loopback address"
    assert [request.path for request in website.requests] == ["/"]


async def test_a_redirect_to_another_scheme_is_refused(website: FakeWebsite) -> None:
    website.redirect("/", "file:///etc/passwd")

    error = await fetch_error(website.url("/"))

    assert error.reason == "unsupported scheme: file"


# -- which addresses may be fetched --------------------------------------------------


async def test_loopback_is_refused_by_default(website: FakeWebsite) -> None:
    url = website.html("/", HOMEPAGE)

    error = await fetch_error(url, FetchSettings())

    assert error.url == url
    assert error.reason == "refused: 127.0.0.1 is a loopback address"
    assert website.requests == []


async def test_loopback_is_fetched_when_private_addresses_are_allowed(
    website: FakeWebsite,
) -> None:
    url = website.html("/", HOMEPAGE)

    page = await fetch(url, FetchSettings(allow_private=True))

    assert page.title == "Acme Robotics"


async def test_a_host_is_refused_if_any_of_its_addresses_is_refused(website: FakeWebsite) -> None:
    settings = FetchSettings(allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))
    resolver = static_resolver({"acme.test": ["127.0.0.1", "127.0.0.2"]})

    async with WebsiteFetcher(settings, resolver=resolver) as fetcher:
        with pytest.raises(WebsiteError) as caught:
            await fetcher.fetch(f"http://acme.test:{website.port}/")

    assert caught.value.reason == "refused: 127.0.0.2 is a loopback address"
    assert website.requests == []


async def test_connects_to_the_checked_address_but_keeps_the_host_name(
    website: FakeWebsite,
) -> None:
    website.html("/", HOMEPAGE)
    resolver = static_resolver({"acme.test": ["127.0.0.1"]})
    url = f"http://acme.test:{website.port}/"

    async with WebsiteFetcher(LOOPBACK_ALLOWED, resolver=resolver) as fetcher:
        page = await fetcher.fetch(url)

    assert page.final_url == url
    assert website.requests[-1].headers["Host"] == f"acme.test:{website.port}"
    assert page.links[0] == f"http://acme.test:{website.port}/about"


async def test_tries_the_next_address_when_one_does_not_answer(website: FakeWebsite) -> None:
    website.html("/", HOMEPAGE)
    resolver = static_resolver({"acme.test": ["127.0.0.2", "127.0.0.1"]})

    async with WebsiteFetcher(LOOPBACK_ALLOWED, resolver=resolver) as fetcher:
        page = await fetcher.fetch(f"http://acme.test:{website.port}/")

    assert page.title == "Acme Robotics"


@pytest.fixture
def clogged_port(website: FakeWebsite) -> Iterator[None]:
    """127.0.0.2 on the website's port: a listener whose backlog is full and which
    never accepts, so a connection there times out instead of being refused."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", website.port))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.2", website.port))
        fillers.append(filler)
    time.sleep(0.1)
    try:
        yield
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_tries_the_next_address_when_one_times_out_on_connect(
    website: FakeWebsite, clogged_port: None
) -> None:
    website.html("/", HOMEPAGE)
    resolver = static_resolver({"acme.test": ["127.0.0.2", "127.0.0.1"]})
    settings = FetchSettings(allow_private=True, connect_timeout=0.5, deadline=5)

    async with WebsiteFetcher(settings, resolver=resolver) as fetcher:
        page = await fetcher.fetch(f"http://acme.test:{website.port}/")

    assert page.title == "Acme Robotics"


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("172.16.0.1", "172.16.0.1 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("240.0.0.1", "240.0.0.1 is a reserved address"),
        ("100.64.0.1", "100.64.0.1 is not a public address"),
        ("::", ":: is an unspecified address"),
        ("::1", "::1 is a loopback address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fc00::1", "fc00::1 is a private address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1 (127.0.0.1) is a loopback address"),
        ("::ffff:10.0.0.1", "::ffff:a00:1 (10.0.0.1) is a private address"),
        ("2002:7f00:1::", "2002:7f00:1:: (127.0.0.1) is a loopback address"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_refusal(address: str, refusal: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == refusal


# -- what fails, and how it reads ----------------------------------------------------


async def test_a_non_html_response_fails(website: FakeWebsite) -> None:
    website.pages["/logo"] = Page(body=b"\x89PNG\r\n", content_type="image/png")

    error = await fetch_error(website.url("/logo"))

    assert error.reason == "not HTML: image/png"


async def test_an_error_status_fails(website: FakeWebsite) -> None:
    error = await fetch_error(website.url("/missing"))

    assert error.reason == "HTTP 404"
    assert str(error) == f"{website.url('/missing')}: HTTP 404"


async def test_a_server_slower_than_the_read_timeout_fails(website: FakeWebsite) -> None:
    url = website.html("/", HOMEPAGE, delay=5)
    started = time.monotonic()

    error = await fetch_error(url, FetchSettings(allow_private=True, read_timeout=0.2))

    assert error.reason == "timed out after 0.2s"
    assert time.monotonic() - started < 3


async def test_the_overall_deadline_bounds_the_whole_fetch(website: FakeWebsite) -> None:
    url = website.html("/", HOMEPAGE, delay=5)
    settings = FetchSettings(allow_private=True, read_timeout=10, deadline=0.3)

    error = await fetch_error(url, settings)

    assert error.reason == "timed out after 0.3s"


async def test_a_closed_port_fails_to_connect() -> None:
    error = await fetch_error(f"http://127.0.0.1:{unused_port()}/")

    assert error.reason.startswith("could not connect")


async def test_an_unsupported_scheme_fails_before_any_request() -> None:
    error = await fetch_error("ftp://acme.test/")

    assert error.reason == "unsupported scheme: ftp"


# -- pure helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("acme.com", "https://acme.com"),
        ("  Acme.COM  ", "https://acme.com"),
        ("www.acme.com/about", "https://www.acme.com/about"),
        ("http://acme.com/", "http://acme.com/"),
        ("https://acme.com:8443/x?y=1", "https://acme.com:8443/x?y=1"),
    ],
)
def test_a_bare_domain_becomes_an_https_url(given: str, expected: str) -> None:
    assert normalize_url(given) == expected
    assert site_url(given) == expected


@pytest.mark.parametrize("given", [None, "", "   ", "ftp://acme.com", "https://"])
def test_site_url_is_none_when_there_is_no_site(given: str | None) -> None:
    assert site_url(given) is None


def test_extract_page_falls_back_to_open_graph_and_to_the_body() -> None:
    html = """<head>
      <meta property="og:title" content="Acme">
      <meta property="og:description" content="Robots.">
    </head><body><div>Plain <b>body</b> text</div></body>"""

    content = extract_page(html, "https://acme.com/")

    assert content.title == "Acme"
    assert content.description == "Robots."
    assert content.text == "Plain body text"
    assert content.links == []


def test_extract_page_caps_the_number_of_links() -> None:
    html = "".join(f'<a href="/p{i}">{i}</a>' for i in range(10))

    content = extract_page(html, "https://acme.com/", max_links=3)

    assert content.links == ["https://acme.com/p0", "https://acme.com/p1", "https://acme.com/p2"]
