"""Files and a runner for driving the ``salesbus`` command line in tests."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from typer.testing import CliRunner, Result

from salesbus.orchestrator.cli import app

CAMPAIGN = """
name = "test campaign"
[seller]
company = "Northwind Data"
product = "pipeline analytics for revenue teams"
value_propositions = ["forecasts your team can trust", "less manual reporting"]
proof_points = ["cut forecast prep from days to hours at a 400-person SaaS company"]
sender_name = "Sam Lee"
sender_title = "Account Executive"
postal_address = "1 Main St, Springfield, IL 62701"
[icp]
industries = ["SaaS", "Fintech", "Software"]
employees_min = 50
employees_max = 5000
regions = ["United States", "Canada"]
keywords = ["revenue", "forecast", "hiring"]
[approval]
mode = "{approval}"
below_score = 0
on_quality_failure = false
"""

LEADS = """name,domain,industry,employees,country,description
Acme Analytics,acme.example,SaaS,300,United States,B2B SaaS for revenue forecasting; hiring fast
Beta Pay,betapay.example,Fintech,1200,Canada,Payments platform for marketplaces
,nameless.example,SaaS,40,United States,no name on this row
Gamma Soft,gamma.example,Software,80,United States,Developer tools; growing revenue team
Lots Inc,lots.example,SaaS,lots,United States,employees is not a number
=HYPERLINK("http://evil.example"),evil.example,SaaS,500,United States,formula in the name
Delta Cloud,delta.example,SaaS,2500,United States,Cloud platform expanding to Europe
"""


def write_inputs(tmp: Path, *, approval: str = "never", leads: str = LEADS) -> tuple[Path, Path]:
    campaign = tmp / "campaign.toml"
    campaign.write_text(CAMPAIGN.replace("{approval}", approval), encoding="utf-8")
    lead_file = tmp / "leads.csv"
    lead_file.write_text(leads, encoding="utf-8")
    return campaign, lead_file


def salesbus(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)


def run_fast(
    leads: Path, campaign: Path, db: Path, *extra: str, env: dict[str, str] | None = None
) -> Result:
    return salesbus(
        "run",
        leads,
        "--campaign",
        campaign,
        "--db",
        db,
        "--llm",
        "offline",
        "--retry-base",
        "0.001",
        *extra,
        env=env,
    )


def states(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT company_name, state FROM workflows"))


def workflow_id(db: Path, company: str) -> str:
    with sqlite3.connect(db) as conn:
        (wid,) = conn.execute(
            "SELECT id FROM workflows WHERE company_name = ?", (company,)
        ).fetchone()
    return str(wid)


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))
