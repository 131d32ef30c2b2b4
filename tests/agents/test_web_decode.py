"""Bodies are decompressed a bounded piece at a time, whatever the encodings stacked."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import anyio
import brotli
import pytest

from salesbus.agents.web_decode import PIECE, BodyError, decode_text, read_body

PAGE = b"<html><body>" + b"<p>Acme builds robots.</p>" * 5000 + b"</body></html>"


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read(data: bytes, encoding: str, cap: int = 10_000_000) -> tuple[bytes, bool]:
    return anyio.run(read_body, chunks(data), encoding, cap)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (PAGE, ""),
        (PAGE, "identity"),
        (gzip.compress(PAGE), "gzip"),
        (gzip.compress(PAGE[:5000]) + gzip.compress(PAGE[5000:]), "gzip"),  # two members
        (zlib.compress(PAGE), "deflate"),
        (zlib.compress(PAGE)[2:-4], "deflate"),  # raw deflate, no zlib header
        (brotli.compress(PAGE), "br"),
        (brotli.compress(gzip.compress(PAGE)), "gzip, br"),
        (gzip.compress(gzip.compress(PAGE)), "GZIP , gzip"),
    ],
)
def test_every_supported_encoding_decodes_to_the_page(encoded: bytes, encoding: str) -> None:
    assert read(encoded, encoding) == (PAGE, False)


def test_an_uncompressed_body_past_the_cap_is_cut_there() -> None:
    assert read(PAGE, "", cap=1000) == (PAGE[:1000], True)


def test_a_compressed_body_past_the_cap_is_refused() -> None:
    with pytest.raises(BodyError, match="compressed page inflates past 1,000 bytes"):
        read(gzip.compress(PAGE), "gzip", cap=1000)


@pytest.mark.parametrize(
    ("encoded", "encoding", "reason"),
    [
        (b"not gzip at all", "gzip", "corrupt gzip data"),
        (b"\xff\xff\xff\xff", "deflate", "corrupt deflate data"),
        (b"\xff\xff\xff\xff", "br", "corrupt brotli data"),
        (PAGE, "zstd", "unsupported content encoding: zstd"),
        (PAGE, "gzip, gzip, gzip, gzip, gzip", "too many content encodings"),
    ],
)
def test_a_body_that_cannot_be_decoded_says_why(encoded: bytes, encoding: str, reason: str) -> None:
    with pytest.raises(BodyError, match=reason):
        read(encoded, encoding)


def test_no_decoder_step_yields_more_than_a_piece() -> None:
    """A run of zeros inflates a thousandfold: pieces stay bounded all the same."""
    from salesbus.agents.web_decode import _decoder

    zeros = bytes(500 * PIECE)
    for encoding, data, bound in (
        ("deflate", zlib.compress(zeros), PIECE),
        ("br", brotli.compress(zeros), 2 * PIECE),  # brotli's buffer grows in steps
    ):
        decoder = _decoder(encoding)
        pieces = [*decoder.feed(data), *decoder.flush()]
        assert max(len(p) for p in pieces) <= bound
        assert sum(len(p) for p in pieces) == len(zeros)


@pytest.mark.parametrize(
    ("body", "declared", "text"),
    [
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
        ('<meta charset="windows-1252">Caf\xe9'.encode("cp1252"), None, "Caf\xe9"),
        ("Grüße".encode(), "no-such-charset", "Grüße"),
        (b"+ADw-script+AD4-", "utf-7", "+ADw-script+AD4-"),
        (b"plain", "base64", "plain"),
        (b"\xef\xbb\xbfBOM first", "iso-8859-1", "BOM first"),
        (b"bad \xff byte", "utf-8", "bad \ufffd byte"),
    ],
)
def test_the_charset_is_read_from_bom_header_or_meta(
    body: bytes, declared: str | None, text: str
) -> None:
    assert decode_text(body, declared).endswith(text)
