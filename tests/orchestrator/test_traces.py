"""A traced batch: one trace per company in a loopback OTLP receiver, with the documented shape."""

from __future__ import annotations

import signal
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from salesbus.agents.campaign import Campaign
from salesbus.agents.errors import ServerError
from salesbus.agents.models import Analysis, Company, CompanyProfile
from salesbus.agents.providers.base import Draft, Provider
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.usage import Usage, record_usage
from salesbus.agents.website import WebPage
from salesbus.observability import Telemetry
from salesbus.orchestrator.runner import RunSettings, run_batch
from salesbus.orchestrator.store import open_store
from salesbus.orchestrator.telemetry import instrumentation_for
from tests.fakes.otlp import OtlpReceiver, ReceivedSpan

from .helpers import a_campaign
from .test_kill_resume import finish, start_run, wait_for_attempts

pytestmark = pytest.mark.anyio

CANARY = "sk-ant-api03-CANARY-in-the-environment-0123456789"
CALL = Usage(
    calls=1,
    input_tokens=100,
    cache_read_tokens=20,
    cache_write_tokens=5,
    output_tokens=50,
    cost_usd=0.001,
)


@dataclass
class MeteredOffline:
    """The offline rules, reporting token usage like a model would, failing once on cue."""

    fail_first_analysis_of: str
    inner: Provider = field(default_factory=OfflineProvider)
    failed: bool = False
    calls: int = 0
    name: str = "offline"
    model: str = "rules-v1"

    async def research(self, company: Company, page: WebPage | None, c: Campaign) -> CompanyProfile:
        self._count()
        return await self.inner.research(company, page, c)

    async def analyze(self, profile: CompanyProfile, c: Campaign) -> Analysis:
        self._count()
        if profile.company.name == self.fail_first_analysis_of and not self.failed:
            self.failed = True
            raise ServerError("overloaded, try again")
        return await self.inner.analyze(profile, c)

    async def personalize(
        self, profile: CompanyProfile, a: Analysis, c: Campaign, notes: list[str] | None = None
    ) -> Draft:
        self._count()
        return await self.inner.personalize(profile, a, c, notes)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _count(self) -> None:
        self.calls += 1
        record_usage(CALL)


COMPANIES = [
    Company(
        name=f"Traced {n}",
        domain=f"traced{n}.example",
        industry="SaaS",
        employees=300,
        country="United States",
        description="Revenue platform, hiring",
    )
    for n in range(4)
]


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[str]:
    names = []
    while span.parent_span_id:
        span = by_id[span.parent_span_id]
        names.append(span.name)
    return names


async def test_each_company_is_one_trace_with_steps_hops_and_model_calls(
    tmp_path: Path, receiver: OtlpReceiver, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    provider = MeteredOffline(fail_first_analysis_of="Traced 2")
    settings = RunSettings(llm="offline", concurrency=4, retry_base_delay=0.001)
    async with open_store(tmp_path / "s.db") as store:
        prepared, _ = await run_batch(
            store,
            COMPANIES,
            a_campaign(),
            settings,
            provider=provider,
            instrumentation=instrumentation_for(telemetry),
        )
        workflows = {w.id: w for w in await store.workflows(prepared.batch.id)}
        attempts = [a for w in workflows for a in await store.attempts(w)]
    telemetry.force_flush()

    spans = receiver.spans
    by_id = {s.span_id: s for s in spans}
    traces: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for span in spans:
        traces[span.trace_id].append(span)
    roots = [s for s in spans if s.name.startswith("workflow ")]

    # One trace per company, its id stored with the workflow.
    assert sorted(r.attributes["salesbus.company"] for r in roots) == [c.name for c in COMPANIES]
    assert len(traces) == len(COMPANIES)
    for root in roots:
        workflow = workflows[root.attributes["salesbus.workflow.id"]]
        assert workflow.trace_id == root.trace_id
        assert root.attributes["salesbus.batch.id"] == prepared.batch.id
        in_trace = traces[root.trace_id]
        steps = [s for s in in_trace if s.name.startswith("invoke_agent ")]
        assert {s.attributes["gen_ai.agent.name"] for s in steps} >= {"research", "analysis"}
        for span in in_trace:
            assert span is root or ancestors(span, by_id)[-1] == root.name
        for step in steps:
            chain = ancestors(step, by_id)
            assert any(name.startswith("process salesbus.") for name in chain)
            assert any(name.startswith("send salesbus.") for name in chain)
        for chat in (s for s in in_trace if s.name.startswith("chat ")):
            assert chat.kind == "CLIENT"
            assert by_id[chat.parent_span_id].name.startswith("invoke_agent ")
            assert chat.attributes["gen_ai.usage.input_tokens"] == 125  # cache included
            assert chat.attributes["gen_ai.usage.output_tokens"] == 50

    # The forced retry: two analysis attempt spans, the first an error.
    retried = next(r for r in roots if r.attributes["salesbus.company"] == "Traced 2")
    analysis = sorted(
        (s for s in traces[retried.trace_id] if s.name == "invoke_agent analysis"),
        key=lambda s: s.attributes["salesbus.step.attempt"],
    )
    assert [(s.attributes["salesbus.step.attempt"], s.status) for s in analysis] == [
        (1, "ERROR"),
        (2, "UNSET"),
    ]
    assert analysis[0].attributes["error.type"] == "server_error"
    assert analysis[0].attributes["salesbus.error.retryable"] is True

    # Token counts on spans match what the provider reported and the store recorded.
    chat_input = sum(
        s.attributes["gen_ai.usage.input_tokens"] for s in spans if s.name.startswith("chat ")
    )
    stored_input = sum(
        a.input_tokens + a.cache_read_tokens + a.cache_write_tokens for a in attempts
    )
    assert chat_input == stored_input == 125 * provider.calls

    # No secret anywhere in what was exported.
    assert all(CANARY not in repr(s.attributes) and CANARY not in repr(s.events) for s in spans)


def test_a_killed_and_resumed_batch_keeps_one_trace_id_per_company(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    otel = {"OTEL_BSP_SCHEDULE_DELAY": "50"}
    first = start_run(tmp_path, otel, ("--otlp", receiver.url))
    try:
        wait_for_attempts(tmp_path / "s.db", 30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finish(tmp_path, otel, "--otlp", receiver.url)

    with sqlite3.connect(tmp_path / "s.db") as conn:
        stored = dict(conn.execute("SELECT id, trace_id FROM workflows").fetchall())
    resumed = [s for s in receiver.spans if s.attributes.get("salesbus.workflow.resumed")]
    assert resumed, "the rerun resumed some workflows"
    for span in resumed:
        assert span.trace_id == stored[span.attributes["salesbus.workflow.id"]]
    for span in receiver.spans:
        workflow = span.attributes.get("salesbus.workflow.id")
        if workflow:
            assert span.trace_id == stored[workflow]
    by_trace: dict[str, set[str]] = defaultdict(set)
    for span in receiver.spans:
        if span.name.startswith("workflow "):
            by_trace[span.trace_id].add(span.attributes["salesbus.workflow.id"])
    assert all(len(ids) == 1 for ids in by_trace.values())
