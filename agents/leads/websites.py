"""Websites and domains: real hostnames only, and the identity key of a company.

A website cell holds what people type into spreadsheets: ``Official website``,
``n/a``, ``{{url|resonac.com}``, ``www.acme.com/about``. The first thing in it
shaped like a hostname under a known public suffix is the website; anything else
is discarded with a reason. Public suffixes come from tldextract's bundled
snapshot of the Public Suffix List, read from the installed package: the
extractor is built with no list URLs and no cache directory, so nothing is ever
fetched. The special-use names ``.example`` and ``.test`` (RFC 2606/6761) count
as suffixes so that documentation and tests can use them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import tldextract

from ..models import Company

__all__ = ["Website", "clean_website", "company_key", "normalise_name", "registrable_domain"]

SPECIAL_USE_SUFFIXES = ("example", "test")
_CANDIDATE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?(?:[^\s/|{}\[\]<>\"'@,;()]+@)?"
    r"(?P<host>(?:[\w-]+\.)+[\w-]+)(?::\d{1,5})?(?P<path>/[^\s|{}\[\]<>\"']*)?",
    re.IGNORECASE,
)
_LEGAL_FORMS = re.compile(
    r"\b(?:inc|incorporated|corp|corporation|co|company|ltd|limited|llc|llp|plc|gmbh|ag|sa|sas"
    r"|srl|spa|bv|nv|oy|ab|as|kk|k\.k|pty|pte|holdings?|group)\b\.?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Website:
    url: str
    """``https://`` + the hostname (+ path as given)."""
    host: str
    domain: str
    """The registrable domain: ``shop.acme.co.uk`` → ``acme.co.uk``."""


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(
        cache_dir=None,
        suffix_list_urls=(),
        fallback_to_snapshot=True,
        extra_suffixes=SPECIAL_USE_SUFFIXES,
    )


@lru_cache(maxsize=1024)
def registrable_domain(host: str) -> str | None:
    """``www.shop.acme.co.uk`` → ``acme.co.uk``; ``None`` without a known public suffix."""
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}".lower()


def clean_website(raw: str) -> Website:
    """The website in a cell.

    :raises ValueError: the cell holds no hostname under a known public suffix.
    """
    for match in _CANDIDATE.finditer(raw):
        host = match["host"].lower().rstrip(".")
        domain = registrable_domain(host)
        if domain is None:
            continue
        path = (match["path"] or "").rstrip(".,;")
        return Website(url=f"https://{host}{'' if path == '/' else path}", host=host, domain=domain)
    shown = raw if len(raw) <= 60 else raw[:60] + "…"
    raise ValueError(f"{shown!r} is not a website address (no hostname with a known suffix)")


def normalise_name(name: str) -> str:
    """``"ACME Corp., Inc."`` → ``"acme"``: a company name as it is compared for duplicates."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    words = _LEGAL_FORMS.sub(" ", folded)
    simple = " ".join(re.sub(r"[^\w]+", " ", words).split())
    return simple or " ".join(folded.split())


def company_key(company: Company) -> str:
    """What identifies a company across rows and runs: its registrable domain, else its
    normalised name (``name:acme``). Two rows with the same key are the same company."""
    for address in (company.domain, company.website):
        if address:
            host = address.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            domain = registrable_domain(host)
            if domain is not None:
                return domain
    return f"name:{normalise_name(company.name)}"
