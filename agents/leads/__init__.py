"""Reading lead lists as CRMs, spreadsheets and data vendors export them.

One job per module, in the order a row goes through them:
:mod:`.decoding` (bytes → lines), :mod:`.columns` (headers → fields),
:mod:`.cells` (cleaning, headcounts), :mod:`.websites` (hostnames, identity),
:mod:`.rows` (a row → a company and its warnings), :mod:`.reader` (the stream)
and :mod:`.problems` (the warning kinds). Locations are resolved by
:mod:`salesbus.agents.locations`.
"""

from __future__ import annotations

from .cells import CELL_LIMIT, parse_employees
from .columns import ColumnMapping, Target, explicit_targets, map_columns, parse_column_map
from .problems import LeadWarning, WarningKind
from .reader import LeadFile, LeadStream, open_leads, read_leads, stream_companies
from .websites import clean_website, company_key

__all__ = [
    "CELL_LIMIT",
    "ColumnMapping",
    "LeadFile",
    "LeadStream",
    "LeadWarning",
    "Target",
    "WarningKind",
    "clean_website",
    "company_key",
    "explicit_targets",
    "map_columns",
    "open_leads",
    "parse_column_map",
    "parse_employees",
    "read_leads",
    "stream_companies",
]
