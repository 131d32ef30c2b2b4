"""Reading lead lists (CSV or JSONL) forgivingly, and saying exactly what was wrong.

Exports from CRMs and spreadsheets name the same column a dozen ways, so
headers are matched after normalising case, spaces and punctuation, through a
table of aliases. A row that cannot be used becomes a :class:`RowError` with its
line number and reason; every other row goes on.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import LeadFileError
from .models import Company, Contact, domain_of

__all__ = ["LeadFile", "RowError", "parse_employees", "read_leads", "read_leads_text"]

ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "company",
        "company_name",
        "account",
        "account_name",
        "organization",
        "organisation",
        "business",
        "business_name",
    ),
    "domain": ("domain", "company_domain", "website_domain", "email_domain"),
    "website": ("website", "url", "homepage", "site", "company_website", "web", "website_url"),
    "industry": ("industry", "sector", "vertical", "category", "company_industry"),
    "employees": (
        "employees",
        "employee_count",
        "headcount",
        "company_size",
        "size",
        "num_employees",
        "number_of_employees",
        "staff",
        "team_size",
        "employees_count",
    ),
    "country": ("country", "location", "region", "hq", "headquarters", "hq_country", "city"),
    "description": ("description", "about", "summary", "company_description", "overview"),
    "notes": ("notes", "note", "comments", "comment", "context"),
    "contact_name": (
        "contact_name",
        "contact",
        "full_name",
        "person",
        "lead_name",
        "contact_full_name",
        "decision_maker",
    ),
    "contact_first_name": ("first_name", "contact_first_name", "firstname", "given_name"),
    "contact_last_name": ("last_name", "contact_last_name", "lastname", "surname", "family_name"),
    "contact_title": ("contact_title", "title", "job_title", "role", "position"),
    "contact_email": ("contact_email", "email", "e_mail", "email_address", "work_email"),
    "contact_linkedin": ("contact_linkedin", "linkedin", "linkedin_url", "linkedin_profile"),
}
_FIELD_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMPLOYEES = re.compile(r"^(\d+(?:\.\d+)?)\s*([kKmM]?)\+?$")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class LeadFile:
    companies: list[Company] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def normalise_header(header: str) -> str:
    """``"Company Name "`` → ``company_name``; ``"E-mail"`` → ``e_mail``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def parse_employees(raw: str) -> int:
    """``"1,200"`` → 1200, ``"10k"`` → 10000, ``"51-200"`` → 125 (the middle of a range).

    :raises ValueError: with a reason a user can act on.
    """
    text = raw.strip().replace(",", "").replace("_", "")
    if "-" in text or "–" in text:
        low, _, high = re.split(r"([-–])", text, maxsplit=1)
        return (parse_employees(low) + parse_employees(high)) // 2
    match = _EMPLOYEES.match(text)
    if not match:
        raise ValueError(f"employees {raw!r} is not a number (try 250, 1,200, 10k or 51-200)")
    value = float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(value)


def read_leads(path: str | Path) -> LeadFile:
    """Read a ``.csv``/``.tsv`` or ``.jsonl``/``.ndjson`` lead list.

    :raises LeadFileError: the file cannot be read at all, or has no name column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LeadFileError(f"cannot read lead file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise LeadFileError(f"{path} is not UTF-8 text: {exc.reason}") from exc
    suffix = path.suffix.lower()
    kind = "jsonl" if suffix in {".jsonl", ".ndjson", ".json"} else "csv"
    return read_leads_text(text, kind=kind, delimiter="\t" if suffix == ".tsv" else None)


def read_leads_text(text: str, *, kind: str = "csv", delimiter: str | None = None) -> LeadFile:
    rows = _jsonl_rows(text) if kind == "jsonl" else _csv_rows(text, delimiter)
    result = LeadFile()
    seen: dict[str, int] = {}
    ignored: set[str] = set()
    for line, row in rows:
        if isinstance(row, RowError):
            result.errors.append(row)
            continue
        mapped, unknown = _map_columns(row)
        ignored.update(unknown)
        if not any(v.strip() for v in mapped.values()):
            continue  # a blank line in a spreadsheet export
        try:
            company = _company(mapped, line)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        if company.key in seen:
            result.errors.append(RowError(line, f"duplicate of line {seen[company.key]}"))
            continue
        seen[company.key] = line
        result.companies.append(company)
    result.ignored_columns = sorted(ignored)
    return result


def _csv_rows(text: str, delimiter: str | None) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise LeadFileError("the lead file is empty") from None
    keys = [normalise_header(h) for h in headers]
    if not any(_FIELD_BY_ALIAS.get(k) == "name" for k in keys):
        raise LeadFileError(f"no company name column among {headers}; name one 'name' or 'company'")
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell past the csv module's field limit, say
            line, start = start, reader.line_num + 1
            yield line, RowError(line, f"unreadable row: {exc}")
            continue
        line, start = start, reader.line_num + 1
        if len(values) > len(keys) and any(v.strip() for v in values[len(keys) :]):
            yield line, RowError(line, f"{len(values)} cells but {len(keys)} columns")
            continue
        yield line, dict(zip(keys, values, strict=False))


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            flat = _flatten(record) if isinstance(record, dict) else None
        except json.JSONDecodeError as exc:
            yield line, RowError(line, f"not valid JSON: {exc.msg}")
            continue
        except RecursionError:
            yield line, RowError(line, "JSON nested too deeply")
            continue
        if flat is None:
            yield line, RowError(line, "each line must be a JSON object")
            continue
        yield line, flat


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"contact": {"name": …}}`` → ``{"contact_name": …}``; values as text."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        name = normalise_header(f"{prefix}{key}")
        if isinstance(value, Mapping):
            flat.update(_flatten(value, prefix=f"{name}_"))
        elif value is not None:
            flat[name] = str(value)
    return flat


def _map_columns(row: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    mapped: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in row.items():
        target = _FIELD_BY_ALIAS.get(normalise_header(key))
        if target is None:
            unknown.append(key)
        elif value and value.strip() and not mapped.get(target):
            mapped[target] = value.strip()
    return mapped, unknown


def _company(fields: dict[str, str], line: int) -> Company:
    """:raises ValueError: the row's reason, as a user would read it."""
    name = fields.get("name", "")
    if not name:
        raise ValueError("the company name is empty")
    employees = parse_employees(fields["employees"]) if fields.get("employees") else None
    website = fields.get("website")
    domain = fields.get("domain") or domain_of(website)
    if website and "://" not in website:
        website = f"https://{website}"
    try:
        return Company(
            name=name,
            domain=domain.lower() if domain else None,
            website=website or (f"https://{domain}" if domain else None),
            industry=fields.get("industry"),
            employees=employees,
            country=fields.get("country"),
            description=fields.get("description"),
            notes=fields.get("notes"),
            contact=_contact(fields),
            line=line,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def _contact(fields: dict[str, str]) -> Contact | None:
    name = fields.get("contact_name") or " ".join(
        part for part in (fields.get("contact_first_name"), fields.get("contact_last_name")) if part
    )
    email = fields.get("contact_email")
    if email and not _EMAIL.match(email):
        raise ValueError(f"contact email {email!r} is not an email address")
    if not name:
        if not email:
            return None
        name = email.split("@", 1)[0]
    return Contact(
        name=name,
        title=fields.get("contact_title"),
        email=email,
        linkedin=fields.get("contact_linkedin"),
    )
