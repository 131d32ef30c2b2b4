"""A response body, decompressed under a cap, and decoded in the charset it declares.

A hostile server can send a few kilobytes that inflate to gigabytes (a "zip
bomb", possibly stacked: ``Content-Encoding: gzip, gzip``). Decompressing a
whole chunk before counting is how 1.8 KB became 2.1 GB of memory, so every
decoder here yields output in pieces of at most :data:`PIECE` bytes and the
reader stops at the cap: memory stays near the cap whatever the ratio.

Only the encodings that can be decoded this way are accepted (and asked for):
gzip, deflate, and brotli (whose decompressor takes an output limit since
``brotli`` 1.2). Anything else is refused rather than read undecoded.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import AsyncIterable, Iterator
from typing import Protocol

import brotli

__all__ = [
    "ACCEPT_ENCODING",
    "PIECE",
    "BodyError",
    "decode_text",
    "read_body",
]

PIECE = 64 * 1024
"""The most bytes one decoder step may produce (brotli's buffer grows in steps, so
its pieces reach about 1.5 times this: still bounded, whatever the ratio)."""

ACCEPT_ENCODING = "gzip, deflate, br"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_REFUSED_CHARSETS = frozenset({"utf-7", "utf_7", "u7", "unicode-1-1-utf-7"})
"""UTF-7 lets ``+ADw-`` spell ``<``: browsers dropped it for that reason, and so do we."""


class BodyError(Exception):
    """A body that cannot be decoded: an unsupported or corrupt content encoding."""


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip (members one after another, as the format allows) or deflate (zlib or raw)."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._wbits = zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(self._wbits)
        self._first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                piece = self._inflate.decompress(data, PIECE)
            except zlib.error as exc:
                if not self._first or self._gzip:
                    raise BodyError(f"corrupt {'gzip' if self._gzip else 'deflate'} data") from exc
                # Some servers send raw deflate without the zlib header.
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                continue
            self._first = False
            if piece:
                yield piece
            data = self._inflate.unconsumed_tail
            if self._inflate.eof:
                data = self._inflate.unused_data
                if not self._gzip or not data:
                    return
                self._inflate = zlib.decompressobj(self._wbits)
            elif not data and len(piece) < PIECE:
                # A full piece may leave output inside zlib even with no input left.
                return

    def flush(self) -> Iterator[bytes]:
        """Nothing: :meth:`feed` drains zlib until a short piece says it is empty."""
        return iter(())


class _BrotliDecoder:
    def __init__(self) -> None:
        self._inflate = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._inflate.process(data, output_buffer_limit=PIECE)
            while True:
                if piece:
                    yield piece
                if self._inflate.can_accept_more_data():
                    return
                piece = self._inflate.process(b"", output_buffer_limit=PIECE)
        except brotli.error as exc:
            raise BodyError("corrupt brotli data") from exc

    def flush(self) -> Iterator[bytes]:
        """What the decompressor still holds at the end of the input, a piece at a time."""
        try:
            while not self._inflate.is_finished():
                piece = self._inflate.process(b"", output_buffer_limit=PIECE)
                if not piece:
                    return
                yield piece
        except brotli.error as exc:
            raise BodyError("corrupt brotli data") from exc


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _decoder(encoding: str) -> _Decoder:
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _ZlibDecoder(encoding)
    if encoding == "br":
        return _BrotliDecoder()
    if encoding == "identity":
        return _Identity()
    raise BodyError(f"unsupported content encoding: {encoding[:40]}")


def _chain(decoders: list[_Decoder], data: bytes, index: int = 0) -> Iterator[bytes]:
    """``data`` through ``decoders[index:]`` in turn, lazily, a bounded piece at a time."""
    if index == len(decoders):
        yield data
        return
    for piece in decoders[index].feed(data):
        yield from _chain(decoders, piece, index + 1)


def _flush(decoders: list[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.flush():
            yield from _chain(decoders, piece, index + 1)


async def read_body(
    raw: AsyncIterable[bytes], content_encoding: str, max_bytes: int
) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the decoded body, and whether there was more (left unread).

    ``content_encoding`` is the header as sent (``"gzip, br"``: applied in that
    order, so undone last to first).

    :raises BodyError: an encoding that is not supported, or corrupt data.
    """
    names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
    if len(names) > 4:
        raise BodyError(f"too many content encodings ({len(names)})")
    decoders = [_decoder(name) for name in reversed(names) if name != "identity"]
    body = bytearray()
    async for chunk in raw:
        for piece in _chain(decoders, chunk):
            if _append_capped(body, piece, max_bytes, compressed=bool(decoders)):
                return bytes(body), True
    for piece in _flush(decoders):
        if _append_capped(body, piece, max_bytes, compressed=bool(decoders)):
            return bytes(body), True
    return bytes(body), False


def _append_capped(body: bytearray, piece: bytes, max_bytes: int, *, compressed: bool) -> bool:
    """Add ``piece`` up to the cap; ``True`` when the cap was reached.

    :raises BodyError: a compressed body past the cap: a page worth reading is
        not that large, a decompression bomb is.
    """
    room = max_bytes - len(body)
    if len(piece) <= room:
        body += piece
        return False
    if compressed:
        raise BodyError(f"compressed page inflates past {max_bytes:,} bytes, skipped")
    body += piece[:room]
    return True


def decode_text(body: bytes, declared: str | None) -> str:
    """``body`` as text: a byte-order mark first, then the declared charset (the
    Content-Type header's), then a ``<meta charset>`` near the top, else UTF-8.

    An unknown, non-text or refused charset (UTF-7) falls through to the next
    rule; bytes that do not decode become U+FFFD, never an error.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    meta = _META_CHARSET.search(body[:2048])
    candidates: list[str | None] = [
        declared,
        meta.group(1).decode("ascii") if meta else None,
        "utf-8",
    ]
    for candidate in candidates:
        codec = _text_encoding(candidate)
        if codec is not None:
            return body.decode(codec, errors="replace")
    return body.decode("utf-8", errors="replace")  # pragma: no cover - utf-8 always resolves


def _text_encoding(name: str | None) -> str | None:
    """The codec for a charset label, or ``None`` if it is unknown, not text, or refused."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _REFUSED_CHARSETS:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if info.name in _REFUSED_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name
