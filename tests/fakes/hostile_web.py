"""A website that attacks the fetcher: every page here is built to hurt a naive reader.

Served by :class:`tests.fakes.web.FakeWebsite` on 127.0.0.1. The pages:

- ``/nested``: 100,000 nested ``<div>``s (quadratic for the HTML parser);
- ``/wide``: more tags than any real page, flat;
- ``/nested-utf16``: the nested divs in UTF-16, where no tag looks like one byte-wise;
- ``/tag-soup``: 300,000 tags that never close (``<a <a <a …``): quadratic for a naive scan;
- ``/gzip-bomb``: ``Content-Encoding: gzip, gzip`` inflating to 200 MB from a few KB;
- ``/deflate-bomb``: the same with one deflate layer;
- ``/brotli-bomb``: brotli inflating to 200 MB from a few hundred bytes;
- ``/unknown-encoding``: ``Content-Encoding: zstd-ish``, which nobody can read;
- ``/utf7``: a page declaring UTF-7 so that ``+ADw-script+AD4-`` would become ``<script>``;
- ``/bogus-charset``: a charset label that names a non-text codec (``rot13``);
- ``/latin1-meta``: Latin-1 bytes declared only by ``<meta charset>``;
- ``/utf16-bom``: UTF-16 with a byte-order mark and a contradicting header;
- ``/drip``: a byte every 0.2 s, forever as far as the fetcher is concerned;
- ``/huge-headers``: 200 KB of response headers.
"""

from __future__ import annotations

import functools
import gzip
import zlib

import brotli

from .web import FakeWebsite, Page

__all__ = ["BOMB_BYTES", "HostileWebsite", "brotli_bomb", "gzip_bomb"]

BOMB_BYTES = 200 * 1024 * 1024
"""What each bomb inflates to: twice the memory the tests allow the fetch."""

_ZEROS = bytes(1024 * 1024)


@functools.cache
def gzip_bomb(layers: int = 2) -> bytes:
    """:data:`BOMB_BYTES` of zeros gzipped ``layers`` times (built once per process)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    data = b"".join(deflate.compress(_ZEROS) for _ in range(BOMB_BYTES // len(_ZEROS)))
    data += deflate.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


@functools.cache
def deflate_bomb() -> bytes:
    deflate = zlib.compressobj(9)
    data = b"".join(deflate.compress(_ZEROS) for _ in range(BOMB_BYTES // len(_ZEROS)))
    return data + deflate.flush()


@functools.cache
def brotli_bomb() -> bytes:
    compressor = brotli.Compressor(quality=5)
    data = b"".join(compressor.process(_ZEROS) for _ in range(BOMB_BYTES // len(_ZEROS)))
    return data + compressor.finish()


class HostileWebsite(FakeWebsite):
    """A :class:`FakeWebsite` with the hostile pages above already in place."""

    def __init__(self) -> None:
        super().__init__()
        html = "text/html"
        self.pages.update(
            {
                "/nested": Page(body=b"<html><body>" + b"<div>" * 100_000 + b"deep"),
                "/wide": Page(body=b"<html><body>" + b"<b>x</b>" * 100_000),
                "/tag-soup": Page(body=b"<html><body><div>soup" + b"<a " * 300_000),
                "/nested-utf16": Page(
                    body=b"\xff\xfe" + ("<div>" * 100_000).encode("utf-16-le"),
                    content_type="text/html",
                ),
                "/gzip-bomb": Page(
                    body=gzip_bomb(), content_type=html, headers={"Content-Encoding": "gzip, gzip"}
                ),
                "/deflate-bomb": Page(
                    body=deflate_bomb(), content_type=html, headers={"Content-Encoding": "deflate"}
                ),
                "/brotli-bomb": Page(
                    body=brotli_bomb(), content_type=html, headers={"Content-Encoding": "br"}
                ),
                "/unknown-encoding": Page(
                    body=b"\x28\xb5\x2f\xfd garbage", headers={"Content-Encoding": "zstd-ish"}
                ),
                "/utf7": Page(
                    body=b"<html><body><p>Hello +ADw-script+AD4-alert(1)+ADw-/script+AD4-</p>",
                    content_type="text/html; charset=utf-7",
                ),
                "/bogus-charset": Page(
                    body=b"<html><body><p>Uryyb Jbeyq plain text</p>",
                    content_type="text/html; charset=rot13",
                ),
                "/latin1-meta": Page(
                    body='<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 M\xfcller'
                    "</p>".encode("latin-1"),
                    content_type="text/html",
                ),
                "/utf16-bom": Page(
                    body=b"\xff\xfe" + "<html><body><p>Grüße aus Köln</p>".encode("utf-16-le"),
                    content_type="text/html; charset=iso-8859-1",
                ),
                "/drip": Page(body=b"<", repeat=10_000, drip=0.2),
                "/huge-headers": Page(
                    body=b"<html><body>fine</body></html>",
                    headers={f"X-Filler-{i}": "x" * 1000 for i in range(200)},
                ),
            }
        )
