"""Servers for the ``harness init`` / ``harness try`` tests: the reference stack and a FastAPI app of our own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_services.inprocess import RunningStack, start_stack
from tests.cli.summaries_app import SummariesService, start_summaries

SUITE_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    """The reference services (examgenerator: sync QA + callback prod; studycompanion: SSE prod) and model."""
    running = start_stack()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def summaries() -> Iterator[SummariesService]:
    """A small FastAPI service of the tests' own that serves /openapi.json with typed responses."""
    service = start_summaries()
    try:
        yield service
    finally:
        service.stop()


def run_suite(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest`` in ``project`` as a user runs it after ``harness init`` (its own rootdir and pytest.ini)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_S,
        check=False,
    )
