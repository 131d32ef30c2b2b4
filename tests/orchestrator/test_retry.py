"""Retry timing: full-jitter exponential backoff under a cap, and the server's retry-after first."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesbus.orchestrator.retry import RetryPolicy


@given(failures=st.integers(min_value=1, max_value=30), seed=st.integers())
def test_backoff_stays_within_the_exponential_ceiling_and_the_cap(failures: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0, rng=random.Random(seed))
    delay = policy.delay(failures)
    assert 0 <= delay <= min(20.0, 0.5 * 2 ** (failures - 1))


def test_jitter_spreads_the_delays_of_workflows_that_failed_together() -> None:
    policy = RetryPolicy(base_delay=1.0, rng=random.Random(7))
    delays = {round(policy.delay(3), 6) for _ in range(50)}
    assert len(delays) > 40


def test_a_servers_retry_after_is_honoured_with_jitter_on_top() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=60.0, rng=random.Random(3))
    delays = [policy.delay(1, retry_after=7.0) for _ in range(50)]
    assert all(7.0 <= delay <= 7.5 for delay in delays)
    assert len({round(delay, 6) for delay in delays}) > 40


def test_a_servers_retry_after_is_bounded_by_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    assert policy.delay(1, retry_after=3600.0) == 1.0


def test_the_budget_counts_failures_against_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.allows(n) for n in (1, 2, 3)] == [True, True, False]


def test_at_least_one_attempt_is_required() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
