"""Bytes → lines of text, one line at a time, in whatever encoding the file is in.

The encoding is decided once from the head of the file: a byte-order mark
(UTF-8, UTF-16, UTF-32) wins; then UTF-8 when the head is UTF-8, or mostly is
(one bad byte spoils its own line, not the file); else charset-normalizer
names the legacy encoding (Windows-1252, Latin-1, Shift_JIS…). Lines are then
decoded as they are read, so a file of any length takes the memory of one line;
a line with bytes that are not text in that encoding has them replaced by
U+FFFD and its number in :attr:`LineSource.bad_lines`.

Lines end at ``\\n`` only (and ``\\r``/``\\r\\n`` in UTF-16/32): never at U+2028,
U+2029 or a form feed, which are valid inside a JSON string.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

import charset_normalizer
from charset_normalizer.utils import is_multi_byte_encoding

from ..errors import LeadFileError

__all__ = ["SAMPLE_BYTES", "LineSource"]

SAMPLE_BYTES = 256 * 1024
"""How much of the head of a file decides its encoding."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1b")
_WESTERN = frozenset({"cp1252", "latin_1", "iso8859_15"})


class LineSource:
    """The lines of an open binary file as text; iterate once.

    :raises LeadFileError: on construction, when the file is empty or binary.
    """

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self._handle = handle
        self.name = name
        self.bad_lines: list[int] = []
        """Numbers of lines that had undecodable bytes, appended as they are read."""
        self.line = 0
        """The number of the last line read."""
        sample = handle.read(SAMPLE_BYTES)
        handle.seek(0)
        self.encoding = _encoding(sample, name)
        self._cr_only = b"\r" in sample and b"\n" not in sample
        """Old Mac spreadsheets end lines with a bare carriage return."""

    def __iter__(self) -> Iterator[str]:
        if self.encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            yield from self._wide_lines()
            return
        if self.encoding == "utf-8-sig":
            self._handle.seek(len(codecs.BOM_UTF8))
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        raws = _split_on_cr(self._handle) if self._cr_only else self._handle
        for raw in raws:
            self.line += 1
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError:
                self.bad_lines.append(self.line)
                yield raw.decode(encoding, errors="replace")

    def _wide_lines(self) -> Iterator[str]:
        text = io.TextIOWrapper(self._handle, encoding=self.encoding, errors="replace", newline="")
        for line in text:
            self.line += 1
            if "\ufffd" in line:
                self.bad_lines.append(self.line)
            yield line
        text.detach()


def _encoding(sample: bytes, name: str) -> str:
    if not sample:
        raise LeadFileError(f"{name} is empty")
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    wide = _utf16_without_bom(sample)
    if wide is not None:
        return wide
    if _looks_binary(sample):
        raise LeadFileError(
            f"{name} is a binary file, not CSV or JSONL text (save spreadsheets as CSV)"
        )
    if _mostly_utf8(sample):
        return "utf-8"
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        raise LeadFileError(f"{name} is not text in any encoding we know")
    plausible = {match.encoding for match in matches}
    if not is_multi_byte_encoding(best.encoding) and plausible & _WESTERN:
        # On a short sample, the single-byte code pages are hard to tell apart;
        # Windows-1252 is what spreadsheets on Western systems write.
        return "cp1252" if _decodes(sample, "cp1252") else "latin_1"
    return best.encoding


def _utf16_without_bom(sample: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a NUL in every other byte."""
    pairs = sample[: len(sample) // 2 * 2]
    if len(pairs) < 4:
        return None
    even, odd = pairs[0::2], pairs[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    """More than one byte in twenty a control character that text does not carry
    (and more than a stray few: a NUL in a short file is a bad cell, not a binary)."""
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls > 8 and controls * 20 > len(sample)


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 when the head decodes as UTF-8, or when its lines with non-ASCII bytes
    decode as UTF-8 at least as often as they do not (a stray bad byte is not an
    encoding)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the end is not an error
    except UnicodeDecodeError:
        pass
    else:
        return True
    good = bad = 0
    for line in sample.split(b"\n")[:-1]:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return good >= bad and good > 0


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _split_on_cr(handle: BinaryIO, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """Lines ending in ``\r``, each with its ``\r``, read a chunk at a time."""
    pending = b""
    while block := handle.read(chunk):
        *lines, pending = (pending + block).split(b"\r")
        yield from (line + b"\r" for line in lines)
    if pending:
        yield pending
