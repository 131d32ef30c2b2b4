"""What was wrong with a lead file, row by row: typed warnings a user can act on.

A row is dropped only when it has no usable company name (or repeats a company
already read); every other problem is a warning on that row's line while the row
goes on, its unreadable value kept as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DROPPING_KINDS", "LeadWarning", "WarningKind"]


class WarningKind(StrEnum):
    BAD_ENCODING = "bad_encoding"
    """Bytes that are not text in the file's encoding; replaced by U+FFFD on that line."""
    CONTROL_CHARACTERS = "control_characters"
    """NUL, escape and other invisible control characters, removed from a cell."""
    CELL_TOO_LARGE = "cell_too_large"
    """A cell longer than the cap (:data:`salesbus.agents.leads.cells.CELL_LIMIT`), cut."""
    EXTRA_CELLS = "extra_cells"
    """More cells than headers; the extra cells are kept as facts ``column N``."""
    UNREADABLE_VALUE = "unreadable_value"
    """An optional value that could not be read (a headcount, say); kept as text."""
    BAD_WEBSITE = "bad_website"
    """A website cell that holds no real hostname (``Official website``, ``n/a``)."""
    BAD_EMAIL = "bad_email"
    """A contact email that is not an address; kept as text."""
    UNKNOWN_LOCATION = "unknown_location"
    """A location that names no country, state or province; kept as text."""
    LONG_ROW = "long_row"
    """One row over more than 100 lines: most likely a quote that is never closed."""
    UNREADABLE_ROW = "unreadable_row"
    """A row the CSV reader cannot read (larger than 64 MB); dropped."""
    BAD_JSON = "bad_json"
    """A JSONL line that is not a JSON object; the row is dropped."""
    NO_NAME = "no_name"
    """No usable company name; the row is dropped."""
    DUPLICATE = "duplicate"
    """The same company (domain, else name) as an earlier row; dropped."""


DROPPING_KINDS = frozenset(
    {WarningKind.UNREADABLE_ROW, WarningKind.BAD_JSON, WarningKind.NO_NAME, WarningKind.DUPLICATE}
)


@dataclass(frozen=True, slots=True)
class LeadWarning:
    """One problem on one line (and column, when it is about a cell) of a lead file."""

    line: int
    column: str | None
    kind: WarningKind
    message: str

    @property
    def dropped(self) -> bool:
        """Whether the row was left out because of this problem."""
        return self.kind in DROPPING_KINDS

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"
