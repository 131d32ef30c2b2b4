"""Observability tests: the developer's own OTEL_* settings are cleared for each test.

Global OpenTelemetry providers can be set once per process, so no test here
sets them: the handle is ``private`` and is passed to every component. What
needs the globals runs in a subprocess (``test_setup.py``).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own OTEL_* settings must not steer the tests."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
