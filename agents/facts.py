"""Building a profile's facts: numbered ids, and a source on every one.

Both providers start from the same facts — everything the input row says — and
add what they find on the website or learn from the model; claims later cite
these ids, so an id must never be reused within a profile.
"""

from __future__ import annotations

from .locations import country_name
from .models import Company, CompanySize, Fact, FactSource
from .untrusted import sanitise_quote

FREE_TEXT_MAX = 600
"""A description or a note as a fact: links and markup removed, at most this long,
since facts reach templates and prompts."""

__all__ = ["FactBook", "facts_from_company"]


class FactBook:
    """Hands out ``f1``, ``f2``… and keeps the facts in the order they were found."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(self, topic: str, text: str, source: FactSource) -> Fact:
        fact = Fact(id=f"f{len(self.facts) + 1}", topic=topic, text=text, source=source)
        self.facts.append(fact)
        return fact

    def about(self, topic: str) -> list[Fact]:
        return [fact for fact in self.facts if fact.topic == topic]


INPUT = FactSource(kind="input", detail="lead list")


def facts_from_company(company: Company, book: FactBook | None = None) -> FactBook:
    """One fact per field the lead row filled in, sourced to the input; columns with no
    field of their own become facts named after their header (``Products: …``)."""
    book = book if book is not None else FactBook()
    book.add("name", f"The company is called {company.name}.", INPUT)
    if company.industry:
        book.add("industry", f"{company.name} operates in {company.industry}.", INPUT)
    if company.employees is not None:
        size = CompanySize.from_employees(company.employees)
        book.add(
            "size",
            f"{company.name} has about {company.employees:,} employees ({size.value}).",
            INPUT,
        )
    if company.country:
        where = company.country
        if company.country_code:
            country = country_name(company.country_code)
            if country.lower() not in where.lower():
                where = f"{where} ({country})"
        book.add("location", f"{company.name} is based in {where}.", INPUT)
    if company.domain or company.website:
        book.add("website", f"Website: {company.website or company.domain}.", INPUT)
    # a blank cell, or one that is only links or markup, is no fact
    if company.description and (description := sanitise_quote(company.description, FREE_TEXT_MAX)):
        book.add("description", description, INPUT)
    if company.notes and (notes := sanitise_quote(company.notes, FREE_TEXT_MAX)):
        book.add("notes", notes, INPUT)
    if company.contact:
        contact = company.contact
        role = f", {contact.title}" if contact.title else ""
        book.add("contact", f"Known contact: {contact.name}{role}.", INPUT)
    for header, value in company.extra_fields.items():
        book.add("column", f"{header}: {value}", INPUT)
    return book
