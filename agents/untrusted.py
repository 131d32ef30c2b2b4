"""Text from outside — lead rows, web pages — made safe to quote, and links found in drafts.

A web page can say "re-verify billing at https://evil.example/verify"; a lead
row's description can carry ``<img src=x onerror=...>``. Quoted as is, that
text would reach a prospect under the seller's name. :func:`sanitise_quote`
runs on every piece of untrusted text before a template or a prompt sees it:
no URLs, no email addresses, no markup, and a length cap. :func:`links_in`
finds what a finished draft links to, so the ``no_untrusted_links`` quality
rule can hold any draft that points anywhere but the seller's or the
company's own domain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import domain_of

__all__ = ["PROMPT_PAGE_MAX", "QUOTE_MAX", "Link", "links_in", "sanitise_quote", "within_domains"]

QUOTE_MAX = 240
"""The longest quote of untrusted text a template receives."""
PROMPT_PAGE_MAX = 12_000
"""The most of a web page's text a prompt receives: enough for what a company says
about itself, and a bound on what a hostile page can put in front of a model."""

_TLDS = (
    "com|net|org|io|ai|co|app|dev|info|biz|xyz|me|us|uk|de|fr|nl|eu|ru|cn|tk|top|site|online|"
    "link|click|shop|store|cloud|tech|example|test|invalid|local|zip|mov|ly|gl|sh|to"
)
_HOST = rf"(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})"
_TAIL = r"[^\s<>\"'“”)\]]*[^\s<>\"'“”)\].,;:!?]"
"""The rest of a URL, not counting punctuation that ends the sentence around it."""
_URL = re.compile(rf"\b(?:[a-z][a-z0-9+.-]{{1,15}}://|www\.){_TAIL}", re.IGNORECASE)
_EMAIL = re.compile(rf"[\w.+-]+@({_HOST})\b", re.IGNORECASE)
_BARE_HOST = re.compile(rf"(?<![\w@./-])({_HOST})(?![\w-])(?:/(?:{_TAIL})?)?", re.IGNORECASE)
_TLD_AFTER_DOT = re.compile(rf"\w\.(?:{_TLDS})(?![\w-])", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\(([^)\s]{0,500})[^)]{0,200}\)")
_HTML_TAG = re.compile(r"</?[a-z!][^<>]{0,500}>", re.IGNORECASE)
_MARKUP_CHARACTERS = re.compile(r"[<>{}\[\]`|*_#\\]")
_DANGLING = re.compile(r"(?:\s*\b(?:at|via|see|visit)\b)+\s*(?=[.;:!?]|$)", re.IGNORECASE)
"""A word left pointing at nothing once its link is gone ("verify at .")."""
_SCHEME_FRAGMENT = re.compile(r"\b(?:javascript|data|vbscript):", re.IGNORECASE)


def sanitise_quote(text: str, limit: int = QUOTE_MAX) -> str:
    """``text`` without links, addresses or markup, on one line, at most ``limit`` long.

    A Markdown link keeps its words and loses its target; HTML tags go
    whole; what is left of markup (brackets, braces, backticks, emphasis
    marks) is dropped, so nothing in a quote can read as a template slot.
    """
    text = _MARKDOWN_LINK.sub(lambda m: m.group(1), text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _BARE_HOST.sub(" ", text)
    text = _SCHEME_FRAGMENT.sub(" ", text)
    text = _MARKUP_CHARACTERS.sub(" ", text)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = _DANGLING.sub("", text)
    return _clip(text.strip(" ,;:-"), limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


@dataclass(frozen=True, slots=True)
class Link:
    """Something in a draft a reader could follow: ``kind`` is url, email, host,
    markdown or html; ``host`` is where it leads (``None`` for bare markup)."""

    kind: str
    text: str
    host: str | None


def links_in(text: str) -> list[Link]:
    """Every URL, email address, bare host name, Markdown link and HTML tag in ``text``.

    Each kind is looked for only where its marker occurs (``](``, ``<``, ``://``
    or ``www.``, ``@``, a dot before a top-level domain): most messages have none.
    """
    found: list[Link] = []
    rest = text
    if "](" in rest:
        for match in _MARKDOWN_LINK.finditer(rest):
            found.append(Link("markdown", match.group(), domain_of(match.group(2)) or None))
        rest = _MARKDOWN_LINK.sub(" ", rest)
    if "<" in rest:
        found.extend(Link("html", match.group(), None) for match in _HTML_TAG.finditer(rest))
        rest = _HTML_TAG.sub(" ", rest)
    lowered = rest.lower()
    if "://" in lowered or "www." in lowered:
        found.extend(Link("url", m.group(), domain_of(m.group())) for m in _URL.finditer(rest))
        rest = _URL.sub(" ", rest)
    if "@" in rest:
        found.extend(Link("email", m.group(), m.group(1).lower()) for m in _EMAIL.finditer(rest))
        rest = _EMAIL.sub(" ", rest)
    if _TLD_AFTER_DOT.search(rest):
        found.extend(Link("host", m.group(), m.group(1).lower()) for m in _BARE_HOST.finditer(rest))
    return found


def within_domains(host: str | None, domains: set[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    if not host:
        return False
    host = host.lower().removeprefix("www.")
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)
