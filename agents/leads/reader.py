"""Reading a lead list (CSV/TSV or JSONL) as a stream of companies and warnings.

:func:`open_leads` is the streaming API: it decodes, maps the header and yields
each company and each warning as its line is read, so a file of any length is
read in the memory of one row (plus, to report duplicates, eight bytes and a
line number per company). :func:`read_leads` collects the stream into a
:class:`LeadFile` for callers that want everything at once.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import LeadFileError
from ..models import Company
from .columns import ColumnMapping, Target, map_columns, unknown_explicit
from .decoding import LineSource
from .problems import LeadWarning, WarningKind
from .rows import build_company
from .websites import company_key

__all__ = ["LeadFile", "LeadStream", "open_leads", "read_leads", "stream_companies"]

LONG_ROW_LINES = 100
"""A row spanning more lines than this is reported (cells may hold line breaks)."""
JSON_DEPTH_LIMIT = 32
"""Nesting kept when flattening a JSONL object; deeper values stay JSON text."""
_FIELD_LIMIT = 64 * 1024 * 1024
"""The csv module's per-field guard, raised from 128 KiB: cells are cut at
:data:`~salesbus.agents.leads.cells.CELL_LIMIT` with a warning instead."""

Format = Literal["csv", "jsonl"]


@dataclass(slots=True)
class LeadFile:
    """A whole lead file: its companies, every warning, and how its columns were read."""

    companies: list[Company] = field(default_factory=list)
    warnings: list[LeadWarning] = field(default_factory=list)
    columns: list[ColumnMapping] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def dropped(self) -> list[LeadWarning]:
        """The warnings that left a row out."""
        return [warning for warning in self.warnings if warning.dropped]


class LeadStream:
    """The rows of an open lead file; iterate once (see :func:`open_leads`)."""

    def __init__(
        self,
        lines: LineSource,
        kind: Format,
        *,
        delimiter: str | None = None,
        columns: Mapping[str, Target] | None = None,
        dedupe: bool = True,
    ) -> None:
        self._lines = lines
        self.kind = kind
        self.encoding = lines.encoding
        self._explicit = dict(columns or {})
        self._seen: dict[int, int] | None = {} if dedupe else None
        self.columns: list[ColumnMapping] = []
        """How each column is read: known when the stream opens for CSV, grows as new
        keys appear for JSONL."""
        self._rows = self._csv_rows(delimiter) if kind == "csv" else self._jsonl_rows()
        if kind == "csv":
            self._first = next(self._rows, None)  # reads and checks the header now

    def __iter__(self) -> Iterator[Company | LeadWarning]:
        """Each company and each warning in line order; a company's warnings come
        just before it (``warning.line == company.line``)."""
        rows = self._rows
        if self.kind == "csv" and self._first is not None:
            rows = itertools.chain((self._first,), rows)
        for line, cells in rows:
            for bad in self._bad_lines():
                yield LeadWarning(bad, None, WarningKind.BAD_ENCODING, _BAD_BYTES)
            if isinstance(cells, LeadWarning):
                yield cells
                continue
            if not any(value.strip() for _, value in cells):
                continue  # a blank line in a spreadsheet export
            company, warnings = build_company(cells, line)
            yield from warnings
            if company is not None:
                duplicate = self._duplicate_of(company)
                if duplicate is None:
                    yield company
                else:
                    yield LeadWarning(
                        line, None, WarningKind.DUPLICATE, f"same company as line {duplicate}"
                    )
        for bad in self._bad_lines():
            yield LeadWarning(bad, None, WarningKind.BAD_ENCODING, _BAD_BYTES)

    def _bad_lines(self) -> list[int]:
        bad, self._lines.bad_lines[:] = list(self._lines.bad_lines), []
        return bad

    def _duplicate_of(self, company: Company) -> int | None:
        if self._seen is None:
            return None
        digest = hashlib.blake2b(company_key(company).encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big")
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = company.line or 0
        return first

    # -- CSV -------------------------------------------------------------------------

    def _csv_rows(
        self, delimiter: str | None
    ) -> Iterator[tuple[int, list[tuple[ColumnMapping, str]] | LeadWarning]]:
        csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
        lines = iter(self._lines)
        head = list(itertools.islice(lines, 20))
        if delimiter is None:
            delimiter = _sniff("".join(head))
        reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter)
        try:
            headers = next(reader, None)
        except csv.Error as exc:  # a stray carriage return inside a quoted header cell
            raise LeadFileError(
                f"{self._lines.name}: the header row cannot be read ({exc})"
            ) from None
        if headers is None or not any(h.strip() for h in headers):
            raise LeadFileError(f"{self._lines.name} has no header row")
        self._set_columns(headers)
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a row past _FIELD_LIMIT: the reader goes on after it
                line, start = start, reader.line_num + 1
                message = f"the row cannot be read ({exc})"
                yield line, LeadWarning(line, None, WarningKind.UNREADABLE_ROW, message)
                continue
            line, start = start, reader.line_num + 1
            if start - line > LONG_ROW_LINES:
                message = (
                    f"one row runs from line {line} to {start - 1}:"
                    " a quote opened on this line may never be closed"
                )
                yield line, LeadWarning(line, None, WarningKind.LONG_ROW, message)
            cells = list(zip(self.columns, values, strict=False))
            extra = values[len(self.columns) :]
            if any(v.strip() for v in extra):
                first = len(self.columns)
                yield (
                    line,
                    LeadWarning(
                        line,
                        None,
                        WarningKind.EXTRA_CELLS,
                        f"{len(values)} cells but {len(self.columns)} columns;"
                        " the extra cells are kept as facts 'column N'",
                    ),
                )
                cells += [
                    (ColumnMapping(first + i, "", Target.FACT, "extra cell"), value)
                    for i, value in enumerate(extra)
                ]
            yield line, cells

    def _set_columns(self, headers: list[str]) -> None:
        missing = unknown_explicit(headers, self._explicit)
        if missing:
            raise LeadFileError(
                f"the column map names {', '.join(missing)}, not among the columns of"
                f" {self._lines.name}: {', '.join(headers)}"
            )
        self.columns = map_columns(headers, self._explicit)
        if not any(mapping.target is Target.NAME for mapping in self.columns):
            raise LeadFileError(
                f"no company name column among {', '.join(headers)};"
                " call one 'company' or map one with --map 'HEADER=name'"
            )

    # -- JSONL -----------------------------------------------------------------------

    def _jsonl_rows(
        self,
    ) -> Iterator[tuple[int, list[tuple[ColumnMapping, str]] | LeadWarning]]:
        mappings: dict[tuple[str, ...], list[ColumnMapping]] = {}
        for text in self._lines:
            line = self._lines.line
            if not text.strip():
                continue
            record = _json_object(text, line)
            if isinstance(record, LeadWarning):
                yield line, record
                continue
            headers = tuple(record)
            if headers not in mappings:
                mappings[headers] = map_columns(headers, self._explicit)
                known = {m.header for m in self.columns}
                self.columns += [m for m in mappings[headers] if m.header not in known]
            yield line, list(zip(mappings[headers], record.values(), strict=True))


@contextmanager
def open_leads(
    path: str | Path,
    *,
    columns: Mapping[str, Target] | None = None,
    dedupe: bool = True,
) -> Iterator[LeadStream]:
    """Open a ``.csv``/``.tsv`` or ``.jsonl``/``.ndjson`` lead list as a stream.

    ``with open_leads(path) as stream: for item in stream: ...`` yields each
    :class:`~salesbus.agents.models.Company` (its ``line`` set) and each
    :class:`LeadWarning` (line, column, kind, message) in file order, reading one
    row at a time: memory stays flat whatever the file's length. ``stream.columns``
    says how each header is read. ``columns`` maps headers to fields explicitly
    (see :func:`~salesbus.agents.leads.columns.parse_column_map`). With
    ``dedupe``, a company seen before (same :func:`company_key`) is a
    ``duplicate`` warning instead; that costs a few bytes per company.

    :raises LeadFileError: the file cannot be opened, is empty or binary, or has
        no company name column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    kind: Format = "jsonl" if suffix in {".jsonl", ".ndjson", ".json"} else "csv"
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise LeadFileError(f"cannot read lead file {path}: {exc.strerror}") from exc
    with handle:
        lines = LineSource(handle, str(path))
        delimiter = "\t" if suffix == ".tsv" else None
        yield LeadStream(lines, kind, delimiter=delimiter, columns=columns, dedupe=dedupe)


def read_leads(path: str | Path, *, columns: Mapping[str, Target] | None = None) -> LeadFile:
    """The whole lead file at once (see :func:`open_leads` for a stream).

    :raises LeadFileError: as :func:`open_leads`.
    """
    with open_leads(path, columns=columns) as stream:
        result = LeadFile(encoding=stream.encoding)
        for item in stream:
            if isinstance(item, Company):
                result.companies.append(item)
            else:
                result.warnings.append(item)
        result.columns = stream.columns
    return result


def stream_companies(
    path: str | Path, *, columns: Mapping[str, Target] | None = None
) -> Iterator[Company]:
    """The file's companies, one row at a time, warnings skipped: what a run consumes
    once a summary pass (:func:`~salesbus.agents.leads.report.inspect_leads`) has
    reported them. The file is opened on the first ``next`` and closed at the end.

    :raises LeadFileError: as :func:`open_leads`.
    """
    with open_leads(path, columns=columns) as stream:
        for item in stream:
            if isinstance(item, Company):
                yield item


_BAD_BYTES = "bytes that are not text in the file's encoding were replaced by '\ufffd'"


def _sniff(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _json_object(text: str, line: int) -> dict[str, str] | LeadWarning:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return LeadWarning(line, None, WarningKind.BAD_JSON, f"not valid JSON: {exc.msg}")
    except RecursionError:
        return LeadWarning(line, None, WarningKind.BAD_JSON, "JSON nested too deeply to read")
    except ValueError as exc:  # an integer of more than 4,300 digits
        return LeadWarning(line, None, WarningKind.BAD_JSON, f"not readable JSON: {exc}")
    if not isinstance(record, dict):
        return LeadWarning(line, None, WarningKind.BAD_JSON, "each line must be a JSON object")
    return _flatten(record)


def _flatten(record: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, str]:
    """``{"contact": {"name": …}}`` → ``{"contact_name": …}``; values as text."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and depth < JSON_DEPTH_LIMIT:
            flat.update(_flatten(value, prefix=f"{name}_", depth=depth + 1))
        elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            flat[name] = "; ".join(str(v) for v in value if v is not None)
        elif isinstance(value, dict | list):
            flat[name] = json.dumps(value, ensure_ascii=False)[:1_000_000]
        elif value is not None:
            flat[name] = str(value)
    return flat
