"""One row → one :class:`Company` and the warnings about it.

The row goes on whatever is wrong with an optional cell: the cell is cleaned,
and a value that cannot be read is kept as text in ``extra_fields`` (so it still
reaches the agents as a fact) with a warning naming its line and column. Only a
row without a usable company name is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from ..locations import resolve_location
from ..models import Company, Contact
from .cells import clean_cell, parse_employees
from .columns import ColumnMapping, Target
from .problems import LeadWarning, WarningKind
from .websites import Website, clean_website

__all__ = ["PLACEHOLDERS", "build_company"]

PLACEHOLDERS = frozenset(
    {"", "-", "--", "—", "–", ".", "?", "n/a", "na", "n.a.", "none", "null", "nil", "tbd", "tba"}
    | {"unknown", "#n/a", "not available", "not applicable", "various", "see website"}
)
"""Cell values that mean "nothing here"; read as empty (a website one with a warning)."""

_SINGLE_LINE = frozenset(Target) - {Target.DESCRIPTION, Target.NOTES, Target.FACT}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WORDISH = re.compile(r"\w")


def build_company(
    cells: Sequence[tuple[ColumnMapping, str]], line: int
) -> tuple[Company | None, list[LeadWarning]]:
    """The company on ``line`` (``None`` when it has no usable name) and its warnings."""
    row = _Row(line)
    for mapping, raw in cells:
        row.add(mapping, raw)
    return row.company(), row.warnings


class _Row:
    def __init__(self, line: int) -> None:
        self.line = line
        self.fields: dict[Target, tuple[str, str]] = {}
        """Target → (header, cleaned value)."""
        self.extra: dict[str, str] = {}
        self.warnings: list[LeadWarning] = []

    def warn(self, column: str | None, kind: WarningKind, message: str) -> None:
        self.warnings.append(LeadWarning(self.line, column, kind, message))

    def keep(self, header: str, value: str) -> None:
        name, n = header, 2
        while name in self.extra:
            name, n = f"{header} ({n})", n + 1
        self.extra[name] = value

    def add(self, mapping: ColumnMapping, raw: str) -> None:
        header = mapping.header or f"column {mapping.index + 1}"
        value, problems = clean_cell(raw, single_line=mapping.target in _SINGLE_LINE)
        for problem in problems:
            kind = WarningKind.CELL_TOO_LARGE if problem.startswith("cut") else None
            self.warn(header, kind or WarningKind.CONTROL_CHARACTERS, problem)
        if mapping.target is Target.SKIP:
            return
        if value.lower() in PLACEHOLDERS:
            if value and mapping.target in (Target.WEBSITE, Target.DOMAIN):
                self.warn(header, WarningKind.BAD_WEBSITE, f"{value!r} is a placeholder: discarded")
            return
        if mapping.target is Target.FACT:
            self.keep(header, value)
        else:
            self.fields[mapping.target] = (header, value)

    def value(self, target: Target) -> str | None:
        found = self.fields.get(target)
        return found[1] if found else None

    def company(self) -> Company | None:
        name = self.value(Target.NAME)
        if not name or not _WORDISH.search(name):
            self.warn(None, WarningKind.NO_NAME, "no company name: row left out")
            return None
        website = self._website()
        where, code = self._location()
        try:
            return Company(
                name=name,
                domain=website.domain if website else None,
                website=website.url if website else None,
                industry=self.value(Target.INDUSTRY),
                employees=self._employees(),
                country=where,
                country_code=code,
                description=self.value(Target.DESCRIPTION),
                notes=self.value(Target.NOTES),
                contact=self._contact(),
                extra_fields=self.extra,
                line=self.line,
            )
        except ValidationError as exc:  # every field is checked above; this is a bug
            raise AssertionError(f"line {self.line}: {exc}") from exc

    def _website(self) -> Website | None:
        found: Website | None = None
        for target in (Target.WEBSITE, Target.DOMAIN):
            if target not in self.fields:
                continue
            header, raw = self.fields[target]
            try:
                website = clean_website(raw)
            except ValueError as exc:
                self.warn(header, WarningKind.BAD_WEBSITE, f"{exc}: discarded")
                continue
            if found is None:
                found = website
            elif website.domain != found.domain:
                self.keep(header, raw)
        return found

    def _employees(self) -> int | None:
        if Target.EMPLOYEES not in self.fields:
            return None
        header, raw = self.fields[Target.EMPLOYEES]
        try:
            return parse_employees(raw)
        except ValueError as exc:
            self.warn(header, WarningKind.UNREADABLE_VALUE, f"{exc}; kept as text")
            self.keep(header, raw)
            return None

    def _location(self) -> tuple[str | None, str | None]:
        parts = [self.value(t) for t in (Target.CITY, Target.STATE, Target.COUNTRY)]
        where = self.value(Target.LOCATION) or ", ".join(p for p in parts if p) or None
        region = self.value(Target.REGION)
        if where is None:
            where = region
        elif region:
            self.keep(self.fields[Target.REGION][0], region)
        if where is None:
            return None, None
        country = self.value(Target.COUNTRY)
        place = (resolve_location(country) if country else None) or resolve_location(where)
        if place is None and region != where:
            header = self.fields.get(Target.LOCATION, self.fields.get(Target.COUNTRY, ("",)))[0]
            self.warn(
                header or None,
                WarningKind.UNKNOWN_LOCATION,
                f"{where!r} names no country, US state or Canadian province; kept as text",
            )
        return where, place.country_code if place else None

    def _contact(self) -> Contact | None:
        first, last = self.value(Target.CONTACT_FIRST_NAME), self.value(Target.CONTACT_LAST_NAME)
        name = self.value(Target.CONTACT_NAME) or " ".join(p for p in (first, last) if p)
        email = self.value(Target.CONTACT_EMAIL)
        if email and not _EMAIL.match(email):
            header = self.fields[Target.CONTACT_EMAIL][0]
            message = f"{email!r} is not an email address; kept as text"
            self.warn(header, WarningKind.BAD_EMAIL, message)
            self.keep(header, email)
            email = None
        if not name:
            if not email:
                for target in (Target.CONTACT_TITLE, Target.CONTACT_LINKEDIN):
                    if target in self.fields:  # a title with nobody to hold it
                        self.keep(*self.fields[target])
                return None
            name = email.split("@", 1)[0]
        return Contact(
            name=name,
            title=self.value(Target.CONTACT_TITLE),
            email=email,
            linkedin=self.value(Target.CONTACT_LINKEDIN),
        )
