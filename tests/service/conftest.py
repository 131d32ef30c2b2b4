"""One shared service for the API tests: token on, small caps, a little model latency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service.server import Server, running_server

MAX_ROWS = 60
MAX_UPLOAD_MB = 0.02  # about 20 KB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("service")
    with running_server(
        tmp,
        "--max-rows",
        str(MAX_ROWS),
        "--max-upload-mb",
        str(MAX_UPLOAD_MB),
        "--concurrency",
        "8",
        "--simulate-latency",
        "0.02",
    ) as running:
        yield running
