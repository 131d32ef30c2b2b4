"""The readable part of an HTML page: title, description, main text and links.

Runs in a worker process (see :func:`read_page`), because an HTML parser is
not linear on every input: lexbor needs about a second for 10,000 nested
``<div>``s and minutes for a 2 MB page of them, holding the GIL throughout, so
neither the event loop nor a thread could be protected from it. Before parsing,
:func:`check_complexity` counts tags and open nesting in one linear pass and
refuses a page past :class:`TextLimits`; the worker is killed at the fetch
deadline in case anything still runs long.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass

import httpx
from selectolax.lexbor import LexborHTMLParser

from .web_decode import decode_text

__all__ = [
    "PageContent",
    "PageTooComplex",
    "TextLimits",
    "check_complexity",
    "extract_page",
    "read_page",
    "read_page_in_worker",
]

_SCHEMES = frozenset({"http", "https"})
_BOILERPLATE_TAGS = ["script", "style", "noscript", "template", "nav", "footer", "svg", "iframe"]
"""Elements whose text is code, styling or site chrome rather than what the company says."""

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]{0,30})[^<>]*?(/?)>")
_NOT_NESTING = frozenset(
    """area base br col embed hr img input link meta param source track wbr
    p li dt dd option optgroup tr td th thead tbody tfoot rb rt rp colgroup caption
    html head body""".split()  # noqa: SIM905 - a list of words reads best as words
)
"""Void elements, and elements whose end tag is optional: ``<p><p>`` are siblings."""


class PageTooComplex(Exception):
    """A page past a :class:`TextLimits` bound; the message says which."""


@dataclass(frozen=True, slots=True)
class TextLimits:
    """How much of a page is read, and how complex a page may be at all."""

    max_text_chars: int = 20_000
    max_links: int = 100
    max_depth: int = 500
    """Open elements at once; lexbor parses 500 nested ``<div>``s in a millisecond,
    10,000 in a second. Real pages stay under 100."""
    max_tags: int = 60_000
    """Tags in the page; 60,000 parse in about 0.2 s. A large real page has 5,000."""


@dataclass(frozen=True, slots=True)
class PageContent:
    """What :func:`extract_page` reads out of one HTML document."""

    title: str | None
    description: str | None
    text: str
    links: list[str]
    text_truncated: bool


def read_page(body: bytes, charset: str | None, base_url: str, limits: TextLimits) -> PageContent:
    """The page in ``body`` (decoded as :func:`decode_text` says), within ``limits``.

    :raises PageTooComplex: nested too deep, or too many tags.
    """
    html = decode_text(body, charset)
    check_complexity(html, limits)
    return extract_page(
        html,
        base_url,
        max_text_chars=limits.max_text_chars,
        max_links=limits.max_links,
    )


_NICENESS = 10
_lowered = {"done": False}


def read_page_in_worker(
    body: bytes, charset: str | None, base_url: str, limits: TextLimits
) -> PageContent:
    """:func:`read_page` as the worker process runs it: the first call lowers the
    worker's priority (``nice`` 10), so parsing never takes a CPU from the process
    running the event loop."""
    if not _lowered["done"]:
        _lowered["done"] = True
        # No nice() on this platform, or not allowed: parse at normal priority.
        with contextlib.suppress(AttributeError, OSError):
            os.nice(_NICENESS)
    return read_page(body, charset, base_url, limits)


def check_complexity(html: str, limits: TextLimits) -> None:
    """Refuse a page nested deeper than ``limits.max_depth`` or with more tags than
    ``limits.max_tags``, in one linear pass over the decoded text (the bytes could
    be UTF-16, where no tag looks like one).

    The depth is an estimate from the tags as written (opens minus closes,
    leaving out void elements and those whose end tag may be omitted), which is
    what makes a parser slow: a page that nests deeply by this count does so in
    the parsed tree too.

    :raises PageTooComplex: with the limit that was passed.
    """
    depth = tags = 0
    for match in _TAG.finditer(html):
        tags += 1
        if tags > limits.max_tags:
            raise PageTooComplex(f"page too complex (more than {limits.max_tags} tags), skipped")
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _NOT_NESTING:
            continue
        if closing:
            depth = max(depth - 1, 0)
            continue
        depth += 1
        if depth > limits.max_depth:
            raise PageTooComplex(
                f"page too complex (nested more than {limits.max_depth} deep), skipped"
            )


def extract_page(
    html: str, base_url: str, *, max_text_chars: int = 20_000, max_links: int = 100
) -> PageContent:
    """Title, meta description, main text and absolute links of an HTML document.

    Links are read before navigation and footers are dropped, since those hold the
    site map (about, careers, customers); the text is read after, since their words
    say nothing about the company.
    """
    tree = LexborHTMLParser(html)
    title = _normalise(_first_text(tree, "title")) or _meta(tree, "og:title")
    description = _meta(tree, "description") or _meta(tree, "og:description")
    links = _links(tree, httpx.URL(base_url), max_links)
    tree.strip_tags(_BOILERPLATE_TAGS, recursive=True)
    text, text_truncated = _cap(_normalise(_main_text(tree)), max_text_chars)
    return PageContent(
        title=title or None,
        description=description,
        text=text,
        links=links,
        text_truncated=text_truncated,
    )


def _normalise(text: str) -> str:
    """Runs of whitespace (non-breaking spaces and newlines too) become one space."""
    return " ".join(text.split())


def _first_text(tree: LexborHTMLParser, selector: str) -> str:
    node = tree.css_first(selector)
    return node.text() if node is not None else ""


def _meta(tree: LexborHTMLParser, name: str) -> str | None:
    """The content of the first ``<meta name=…>`` or ``<meta property=…>`` called ``name``."""
    for node in tree.css("meta[content]"):
        attributes = node.attributes
        key = attributes.get("name") or attributes.get("property") or ""
        content = _normalise(attributes.get("content") or "")
        if key.lower() == name and content:
            return content
    return None


def _links(tree: LexborHTMLParser, base: httpx.URL, limit: int) -> list[str]:
    """Distinct absolute http(s) links, without fragments, in document order."""
    links: dict[str, None] = {}
    for node in tree.css("a[href]"):
        if len(links) >= limit:
            break
        href = (node.attributes.get("href") or "").strip()
        try:
            link = base.join(href).copy_with(fragment=None)
        except httpx.InvalidURL:
            continue
        if link.scheme in _SCHEMES:
            links.setdefault(str(link), None)
    return list(links)


def _main_text(tree: LexborHTMLParser) -> str:
    """The text of ``<main>`` when the page marks one up and it has text, else of the body."""
    main = tree.css_first("main, [role=main]")
    if main is not None and main.text(strip=True):
        return main.text(separator=" ")
    body = tree.body
    return body.text(separator=" ") if body is not None else ""


def _cap(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters at a word boundary, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    if text[limit] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(), True
