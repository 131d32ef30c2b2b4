"""Fetching a company's website safely and reading its text.

(The fetcher is being written; this module currently holds the page model the
providers consume.)
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WebPage"]


class WebPage(BaseModel):
    """The readable part of one fetched page, bounded in size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """The URL asked for."""
    final_url: str
    """Where redirects ended."""
    status: int
    title: str | None = None
    description: str | None = None
    """The page's meta description, if any."""
    text: str = ""
    """Main text, whitespace-normalised and cut to the fetcher's text limit."""
    links: list[str] = Field(default_factory=list)
    fetched_at: datetime
    truncated: bool = False
