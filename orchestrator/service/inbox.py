"""The approval inbox at ``/``: drafts awaiting a person, rendered on the server.

Everything from a lead file or a model reaches the page through Jinja2 with
autoescaping on, and links only when they are http(s); the page's script
(``static/inbox.js``) sets text, never HTML, and calls the same JSON API as
any client. A content-security policy allows scripts from this origin only.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import jinja2
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from salesbus.agents.models import Channel, MessageKind, QualityDecision, Tier

from .app import TOKEN_COOKIE, Service, service
from .drafts import Draft, DraftFilter, awaiting_drafts

__all__ = ["login", "router", "static_files"]

HERE = Path(__file__).parent
PAGE_LIMIT = 200
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)
login = APIRouter(include_in_schema=False)
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def static_files() -> StaticFiles:
    # An editable (strict) install links each file into place: follow those links.
    return StaticFiles(directory=HERE / "static", follow_symlink=True)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(**context)
    return HTMLResponse(
        html,
        status,
        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"},
    )


def _safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (``javascript:``…) stays text."""
    if url and urlparse(url).scheme in {"http", "https"}:
        return url
    return None


def _card(draft: Draft) -> dict[str, Any]:
    workflow, drafted = draft.workflow, draft.drafted
    card: dict[str, Any] = {
        "id": workflow.id,
        "batch": workflow.batch_id,
        "company": workflow.company.name,
        "domain": workflow.company.domain or "",
        "reason": workflow.reason or "",
        "facts": [],
        "score": None,
        "tier": "",
        "quality": "",
        "analysis": None,
        "messages": [],
        "checks": [],
        "email": None,
        "note": None,
    }
    if drafted is None:
        return card
    profile, analysis, outreach = drafted.profile, drafted.analysis, drafted.outreach
    card["facts"] = [
        {
            "id": f.id,
            "text": f.text,
            "kind": f.source.kind,
            "url": f.source.url or "",
            "link": _safe_link(f.source.url),
        }
        for f in profile.facts
    ]
    card.update(score=analysis.icp_score, tier=analysis.tier.value)
    card["quality"] = outreach.quality.decision.value
    card["analysis"] = analysis
    card["checks"] = list(outreach.quality.checks)
    for message in outreach.messages:
        if message.kind is MessageKind.INITIAL and message.channel is Channel.EMAIL:
            card["email"] = message
        elif message.kind is MessageKind.CONNECTION_NOTE:
            card["note"] = message
        else:
            card["messages"].append(message)
    return card


def _authorized(request: Request) -> bool:
    expected: str | None = request.app.state.service.config.token
    if expected is None:
        return True
    header = request.headers.get("authorization", "")
    given = (
        header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
    )
    return bool(given) and secrets.compare_digest(str(given).encode(), expected.encode())


@router.get("/", response_class=HTMLResponse)
async def inbox(
    request: Request,
    svc: Annotated[Service, Depends(service)],
    batch: str | None = None,
    tier: Annotated[str | None, Query()] = None,
    min_score: Annotated[str | None, Query()] = None,
    quality: Annotated[str | None, Query()] = None,
) -> Response:
    """Drafts awaiting approval, filtered; keyboard: j/k move, a approve, r reject, e edit."""
    if not _authorized(request):
        return RedirectResponse("/login", 303)
    where = DraftFilter(
        tier=Tier(tier) if tier in {t.value for t in Tier} else None,
        min_score=int(min_score)
        if min_score and min_score.isdigit() and int(min_score) <= 100
        else None,
        quality=QualityDecision(quality) if quality in {q.value for q in QualityDecision} else None,
    )
    batch_id = batch or None
    if batch_id is not None:
        batch_id = (await svc.store.batch(batch_id)).id
    drafts = await awaiting_drafts(svc.store, svc.reads, batch_id, where, limit=PAGE_LIMIT)
    return _page(
        "inbox.html",
        cards=[_card(d) for d in drafts],
        batches=await svc.reads.batch_ids(),
        chosen={
            "batch": batch_id or "",
            "tier": where.tier.value if where.tier else "",
            "min_score": "" if where.min_score is None else str(where.min_score),
            "quality": where.quality.value if where.quality else "",
        },
        tiers=[t.value for t in Tier],
        qualities=[q.value for q in QualityDecision],
        limit=PAGE_LIMIT,
    )


@login.get("/login", response_class=HTMLResponse)
async def login_page() -> Response:
    return _page("login.html", failed=False)


@login.post("/login", response_class=HTMLResponse)
async def log_in(request: Request, token: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Keeps the token in an HttpOnly, same-site cookie the inbox's API calls then carry."""
    expected: str | None = request.app.state.service.config.token
    if expected is not None and not secrets.compare_digest(token.encode(), expected.encode()):
        return _page("login.html", 401, failed=True)
    response = RedirectResponse("/", 303)
    if expected is not None:
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response
